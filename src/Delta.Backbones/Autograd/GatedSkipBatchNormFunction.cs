using Delta.Backbones.Delta;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Autograd;

/// <summary>
/// The Δ-stage's normalised skip term y_j = BN_j(S_j), S_j = Σ_{i&lt;j} λ_{i,j} n_i, with BN_j in training mode, as one
/// autograd node that does not keep S_j. libtorch's BatchNorm node saves its input — one more full-size tensor per
/// target block on top of the sources n_i, which the λ gradients need anyway. Here backward recomputes S_j from the
/// saved sources and gates (the same ops in the same order, so the same values) and applies BatchNorm's training-mode
/// gradient with M = N·H·W and x̂ = (S_j − μ)/σ over the batch:
/// <code>
///   ∂L/∂β = Σ g      ∂L/∂γ = Σ g ⊙ x̂      ∂L/∂S = γ/(σ·M) · (M·g − ∂L/∂β − x̂ ⊙ ∂L/∂γ)
///   ∂L/∂λ_{i,j} = Σ_{c,h,w} ∂L/∂S ⊙ n_i  (per sample)      ∂L/∂n_i = λ_{i,j} · ∂L/∂S
/// </code>
/// The forward is the module's own BatchNorm call, so outputs and running statistics are exactly libtorch's.
/// <para>With a <see cref="SourceRecompute"/>, n_0 is not kept either: it is the first block's projection shortcut of
/// h_0 (4x h_0's size in ResNet-50's C2), and h_0 is kept anyway (Δ_s's first convolution needs it), so backward
/// recomputes n_0 = D(h_0) — one 1x1 convolution per stage, shared by its targets — instead.</para>
/// </summary>
internal sealed class GatedSkipBatchNormFunction : autograd.SingleTensorFunction<GatedSkipBatchNormFunction>
{
    public override string Name => nameof(GatedSkipBatchNormFunction);

    /// <summary>Whether the node applies (<see cref="BatchNormTrainingGradient.AppliesTo"/>).</summary>
    public static bool Applies(BatchNorm2d bn) => BatchNormTrainingGradient.AppliesTo(bn);

    /// <summary>How to get n_0 back from a tensor that is kept anyway (<paramref name="recompute"/>(input) must give n_0's
    /// values), shared by the <paramref name="consumers"/> target nodes of one stage forward: the first backward that
    /// needs n_0 computes it, the last one frees it, so a stage's backward pays one recomputation, not one per target.</summary>
    public sealed class SourceRecompute(Tensor input, Func<Tensor, Tensor> recompute, int consumers)
    {
        private Tensor? value;
        private int pending;

        public Tensor Input => input;

        internal Tensor Acquire(Tensor keptInput)
        {
            if (value is null)
            {
                using (no_grad()) value = recompute(keptInput).DetachFromDisposeScope();
                pending = consumers;
            }
            return value;
        }

        internal void Release()
        {
            if (value is null || --pending > 0) return;
            value.Dispose();
            value = null;
        }
    }

    /// <summary>λ_j [N, j] (λ_{i,j} for i = 0..j−1), sources n_0..n_{j−1} [N, C, H, W] fp32 ↦ BN_j(S_j) [N, C, H, W];
    /// n_0 recomputed in backward when <paramref name="firstSource"/> says how.</summary>
    public static Tensor Apply(Tensor gates, IReadOnlyList<Tensor> sources, BatchNorm2d bn, SourceRecompute? firstSource = null)
    {
        if (gates.shape[1] != sources.Count)
            throw new ArgumentException($"{gates.shape[1]} gates for {sources.Count} skip sources.");
        var args = new object[5 + sources.Count];
        // Non-tensor arguments (the BN, the recipe) are not graph inputs; the recipe's input is saved, not an edge.
        (args[0], args[1], args[2], args[3], args[4]) = (bn, (object?)firstSource ?? NoRecompute, gates, bn.weight!, bn.bias!);
        for (int i = 0; i < sources.Count; i++) args[5 + i] = sources[i];
        var y = apply(args);
        CustomFunctionLifetime.ReleaseOutputCache();
        return y;
    }

    private static readonly object NoRecompute = new();

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        CustomFunctionLifetime.RecordForward(ctx);
        var bn = (BatchNorm2d)vars[0];
        var firstSource = vars[1] as SourceRecompute;
        var gates = (Tensor)vars[2];
        var sources = vars.Skip(5).Cast<Tensor>().ToList();
        using var scope = NewDisposeScope();
        var y = bn.call(GatedSkipSum.Of(gates, sources));
        var kept = firstSource is null ? sources : [firstSource.Input, .. sources.Skip(1)];
        ctx.save_for_backward([gates, bn.weight!, .. kept]);
        ctx.save_data("eps", bn.eps);
        ctx.save_data("firstSource", firstSource);
        return y.MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        CustomFunctionLifetime.EnsureSavedTensors(ctx, Name);
        CustomFunctionLifetime.ReleaseHandedOver();
        var eps = (double)ctx.get_data("eps");
        var firstSource = ctx.get_data("firstSource") as SourceRecompute;
        var grads = new List<Tensor> { null!, null! };   // the BatchNorm2d and the recipe are not tensors
        using (NewDisposeScope())
        {
            var saved = ctx.get_saved_variables();
            var (gates, gamma, sources) = (saved[0], saved[1], saved.Skip(2).ToList());
            if (firstSource is not null) sources[0] = firstSource.Acquire(sources[0]);   // n_0 = D(h_0), as in forward
            var n = gates.shape[0];
            var (normalized, invStd) = BatchNormTrainingGradient.Normalize(GatedSkipSum.Of(gates, sources), eps, inPlace: true);
            var (gradSum, gradGamma, gradBeta) = BatchNormTrainingGradient.Backward(normalized, invStd, gradOutput, gamma);
            // Every full-size temporary is freed as soon as it is reduced: backward holds S's buffer and one product.
            var gradGates = stack(sources.Select(source =>
            {
                using var product = gradSum * source;
                return product.sum([1, 2, 3]);
            }).ToList(), 1);                                                                               // [N, j]
            grads.Add(CustomFunctionLifetime.HandOver(gradGates));
            grads.Add(CustomFunctionLifetime.HandOver(gradGamma));
            grads.Add(CustomFunctionLifetime.HandOver(gradBeta));
            for (int i = 0; i < sources.Count; i++)
                grads.Add(CustomFunctionLifetime.HandOver(gradSum * gates[.., i].reshape(n, 1, 1, 1)));
        }
        firstSource?.Release();
        gradOutput.Dispose();
        CustomFunctionLifetime.ReleaseSavedIfSingleBackward(ctx);
        return grads;
    }
}
