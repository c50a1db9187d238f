using Delta.Backbones.Architectures;
using Delta.Backbones.Autograd;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Delta;

/// <summary>
/// The Δ-augmented version of one frozen stage (paper Eq. for Δ-Networks). With sub-blocks B_1..B_k and
/// stage input h_0:
/// <code>
///   n_0 = D(h_0)   (D = B_1's own frozen projection shortcut when shapes differ, identity otherwise)
///   Λ   = Δ_s(h_0) ∈ [0,1]^{k(k+1)/2}
///   h_j = B_j(h_{j−1}) + BN_j( Σ_{i&lt;j} λ_{i,j} · n_i ),   n_j = h_j,   j = 1..k   (cascading)
/// </code>
/// B_j is the whole residual block (its own identity shortcut and final ReLU included); the Δ skip terms are
/// added after it. B_j sees the augmented h_{j−1}.
/// <para><b>Where the BN sits, and why.</b> The paper adds BatchNorm against the variance growth of summed
/// skips. It sits on the gated skip sum S_j = Σ_{i&lt;j} λ_{i,j} n_i, before it is added to B_j's output — the
/// only place that normalises exactly the term whose variance grows with j (S_j sums j feature maps) while
/// leaving the frozen blocks' own outputs, which the next frozen layers expect, untouched. A BN on the stage
/// output would instead re-standardise the base features fed to the next frozen stage. The S_j for different
/// targets j are different tensors (j summands each), so one shared BN would average k unrelated sets of
/// running statistics; each target therefore gets its own BN (k per Δ-module, 2·C·k parameters — negligible
/// next to Δ_s).</para>
/// <para><b>Initialisation.</b> Each skip BN's scale γ starts at 0 (as in "zero-init residual"): at step 0 the
/// augmented stage computes exactly the base function, so a task head trained from the start sees the
/// pretrained features and no frozen layer gets an input distribution it never saw. γ receives a gradient
/// (∂L/∂γ = Σ ∂L/∂h_j · ŝ_j ≠ 0) on the first step; the gates and Δ_s receive non-zero gradients from then on.
/// Without BN (ablation) the skips are added raw from the first step, as in the paper's "without BN" rows.</para>
/// <para>The stage's modules are held by plain reference, never registered: parameters, train/eval and
/// <c>to()</c> of this module reach the Δ parameters only.</para>
/// </summary>
public sealed class DeltaStage : nn.Module
{
    private readonly SkipGates gates;
    private readonly ModuleList<BatchNorm2d>? skip_bn;
    private BackboneStage stage;

    public DeltaStage(BackboneStage stage, SkipGates gates, bool batchNorm) : base(nameof(DeltaStage))
    {
        if (gates.Blocks != stage.Blocks.Count)
            throw new ArgumentException($"Gates for {gates.Blocks} blocks cannot drive stage {stage.Name} with {stage.Blocks.Count} blocks.");
        this.gates = gates;
        if (batchNorm) skip_bn = nn.ModuleList(Enumerable.Range(0, stage.Blocks.Count).Select(_ => nn.BatchNorm2d(stage.OutputChannels)).ToArray());
        this.stage = null!;
        RegisterComponents();
        this.stage = stage;   // after RegisterComponents: a view of the base, never a child
    }

    /// <summary>What the gated skip sums S_j, their BNs and the sums h_j compute in (<c>BackboneRequest.DeltaSkipSums</c>):
    /// Float32 (default), or BFloat16, which applies when the frozen view runs in bf16 (the fast mode) and then keeps
    /// its block outputs in bf16 instead of casting them up, as PyTorch's autocast does.</summary>
    public ScalarType SkipSumDType
    {
        get => skipSumDType;
        set => skipSumDType = value is ScalarType.Float32 or ScalarType.BFloat16 ? value
            : throw new ArgumentException($"Skip sums compute in Float32 or BFloat16, not {value}.");
    }
    private ScalarType skipSumDType = ScalarType.Float32;

    public BackboneStage Stage => stage;
    public SkipGates Gates => gates;
    public int Blocks => stage.Blocks.Count;
    public bool HasBatchNorm => skip_bn is not null;

    /// <summary>Rebinds the view to another instance of the same architecture (a trainable base copy).</summary>
    internal void Rebind(BackboneStage other)
    {
        if (other.Blocks.Count != stage.Blocks.Count) throw new ArgumentException("Stage shapes differ.");
        stage = other;
    }

    /// <summary>x = the stage's input (before its entry layer) ↦ h_k [N, C, H, W]; <paramref name="lambda"/>
    /// = Λ [N, k(k+1)/2].</summary>
    public Tensor Forward(Tensor x, out Tensor lambda) => Forward(x, stage, out lambda);

    /// <summary>
    /// The same stage function run over <paramref name="frozen"/>: this stage's view of the base, or of its bf16
    /// fast-mode copy (same architecture, same weights rounded). The frozen blocks run in the dtype of their
    /// weights (x must already be in it); the Δ arithmetic — the gated skip sums S_j, the skip BNs and the sums h_j —
    /// runs in fp32 unless <see cref="SkipSumDType"/> asks for the bf16 view's own dtype: in fp32 each block output is
    /// cast up and each block input cast down. The gates are fp32 either way (cast down for the products when the sums
    /// are bf16). The result h_k is fp32. In fp32 mode every cast is skipped and the computation is exactly the one above.
    /// </summary>
    public Tensor Forward(Tensor x, BackboneStage frozen, out Tensor lambda)
    {
        if (frozen.Blocks.Count != Blocks)
            throw new ArgumentException($"Stage view {frozen.Name} has {frozen.Blocks.Count} blocks, this Δ-stage drives {Blocks}.");
        using var scope = NewDisposeScope();
        var h0 = frozen.Enter(x);
        var baseType = h0.dtype;
        var sumType = skipSumDType == baseType ? baseType : ScalarType.Float32;
        // Gates take h_0 in the base's dtype (Δ_s casts it itself: its convolutions may compute in bf16).
        var lam = gates.call(h0);                                             // [N, P] fp32
        var lamForSums = lam.dtype == sumType ? lam : lam.to_type(sumType);
        var sources = new List<Tensor>(Blocks + 1) { To(sumType, frozen.Shortcut is null ? h0 : frozen.Shortcut.call(h0)) };
        var h = h0;
        Tensor hj = sources[0];
        // n_0 = D(h_0) is recomputed in backward from h_0, which Δ_s keeps anyway, rather than kept (once per stage).
        var shortcut = frozen.Shortcut;
        // Only when the skip-BN nodes will be recorded (training with autograd, fp32 sums): no recipe otherwise.
        var firstSource = shortcut is null || !SkipBatchNormNodeApplies(sumType) ? null
            : new GatedSkipBatchNormFunction.SourceRecompute(h0, x => ToFloat32(shortcut.call(x)), Blocks);
        for (int j = 1; j <= Blocks; j++)
        {
            var output = frozen.Blocks[j - 1].call(h);
            if (!ReferenceEquals(h, h0) && !ReferenceEquals(h, hj)) h.Dispose();   // a bf16 cast of h_{j−1}, used up
            var block = To(sumType, output);
            if (!ReferenceEquals(block, output)) output.Dispose();
            // S_j = Σ_{i<j} λ_{i,j} n_i; λ_{·,j} is the contiguous slice [offset(j), offset(j)+j) of Λ.
            var lamJ = lamForSums.narrow(1, GatePairs.TargetOffset(j), j);     // [N, j]
            var skip = NormalizedSkip(j, lamJ, sources, firstSource);
            hj = block + skip;
            // Each target's temporaries go as soon as they are summed, not when the stage ends (the dispose scope
            // would otherwise keep every block output and skip term of the stage alive until then).
            block.Dispose();
            skip.Dispose();
            sources.Add(hj);
            if (j < Blocks) h = hj.dtype == baseType ? hj : hj.to_type(baseType);
        }
        lambda = lam.MoveToOuterDisposeScope();
        return ToFloat32(hj).MoveToOuterDisposeScope();
    }

    /// <summary>Whether a training skip BN runs as the node that recomputes S_j (<see cref="GatedSkipBatchNormFunction"/>):
    /// its hand-written gradient is fp32; bf16 sums go through libtorch's own BatchNorm node.</summary>
    private bool SkipBatchNormNodeApplies(ScalarType sumType) =>
        sumType == ScalarType.Float32 && skip_bn is not null && GatedSkipBatchNormFunction.Applies(skip_bn[0]);

    /// <summary>BN_j(S_j) (or S_j without skip BNs) over the first j sources. A training skip BN runs as one node that
    /// recomputes S_j in backward instead of keeping it (<see cref="GatedSkipBatchNormFunction"/>).</summary>
    private Tensor NormalizedSkip(int j, Tensor lamJ, List<Tensor> sources, GatedSkipBatchNormFunction.SourceRecompute? firstSource)
    {
        var used = sources.GetRange(0, j);
        if (skip_bn is null) return GatedSkipSum.Of(lamJ, used);
        var bn = skip_bn[j - 1];
        if (SkipBatchNormNodeApplies(lamJ.dtype)) return GatedSkipBatchNormFunction.Apply(lamJ, used, bn, firstSource);
        using var sum = GatedSkipSum.Of(lamJ, used);
        return bn.call(sum);
    }

    private static Tensor ToFloat32(Tensor t) => To(ScalarType.Float32, t);

    private static Tensor To(ScalarType dtype, Tensor t) => t.dtype == dtype ? t : t.to_type(dtype);

    /// <summary>Seeded initialisation: gates per their variant, skip BNs with γ = 0, β = 0 (see class doc).</summary>
    public void ResetParameters(Generator generator)
    {
        gates.ResetParameters(generator);
        if (skip_bn is null) return;
        using var noGrad = no_grad();
        foreach (var bn in skip_bn)
        {
            bn.weight!.zero_(); bn.bias!.zero_();
            bn.running_mean!.zero_(); bn.running_var!.fill_(1); bn.num_batches_tracked!.zero_();
        }
    }
}
