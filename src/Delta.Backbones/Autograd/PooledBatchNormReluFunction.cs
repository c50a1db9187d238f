using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Autograd;

/// <summary>
/// p = GAP(ReLU(BN(z))) [N, C] with BN in training mode — the end of Δ_s — as one autograd node that keeps only z.
/// libtorch's nodes keep z (BN's input) and ReLU's output, though the pooling needs nothing and the ReLU only its
/// sign; backward recomputes x̂ from z, y = γ x̂ + β for the ReLU's mask, and applies BatchNorm's training-mode gradient
/// (<see cref="BatchNormTrainingGradient"/>) to [y &gt; 0] ⊙ ∂L/∂p / (H·W). The forward is the module's own BN call
/// followed by the same ReLU and pooling, so values and running statistics are exactly libtorch's.
/// </summary>
internal sealed class PooledBatchNormReluFunction : autograd.SingleTensorFunction<PooledBatchNormReluFunction>
{
    public override string Name => nameof(PooledBatchNormReluFunction);

    /// <summary>Whether the node applies (<see cref="BatchNormTrainingGradient.AppliesTo"/>).</summary>
    public static bool Applies(BatchNorm2d bn) => BatchNormTrainingGradient.AppliesTo(bn);

    /// <summary>z [N, C, H, W] fp32 ↦ GAP(ReLU(BN(z))) [N, C].</summary>
    public static Tensor Apply(Tensor z, BatchNorm2d bn)
    {
        var y = apply(bn, z, bn.weight!, bn.bias!);
        CustomFunctionLifetime.ReleaseOutputCache();
        return y;
    }

    /// <summary>The same function by libtorch's own nodes.</summary>
    public static Tensor Plain(Tensor z, BatchNorm2d bn)
    {
        using var scope = NewDisposeScope();
        return nn.functional.adaptive_avg_pool2d(nn.functional.relu(bn.call(z)), 1).flatten(1).MoveToOuterDisposeScope();
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        CustomFunctionLifetime.RecordForward(ctx);
        var bn = (BatchNorm2d)vars[0];
        var z = (Tensor)vars[1];
        ctx.save_for_backward([z, bn.weight!, bn.bias!]);
        ctx.save_data("eps", bn.eps);
        return Plain(z, bn);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        CustomFunctionLifetime.EnsureSavedTensors(ctx, Name);
        CustomFunctionLifetime.ReleaseHandedOver();
        var eps = (double)ctx.get_data("eps");
        var grads = new List<Tensor> { null! };   // the BatchNorm2d argument is not a tensor
        using (NewDisposeScope())
        {
            var saved = ctx.get_saved_variables();
            var (z, gamma, beta) = (saved[0], saved[1], saved[2]);
            var (normalized, invStd) = BatchNormTrainingGradient.Normalize(z, eps, inPlace: false);
            var (n, c, h, w) = (z.shape[0], z.shape[1], z.shape[2], z.shape[3]);
            // ∂L/∂y = [γ x̂ + β > 0] ⊙ ∂L/∂p / (H·W), broadcast over H, W.
            Tensor gradY;
            using (var y = normalized * gamma.reshape(1, c, 1, 1))
            {
                y.add_(beta.reshape(1, c, 1, 1));
                using var positive = y.gt(0);
                gradY = positive.to_type(z.dtype).mul_(gradOutput.reshape(n, c, 1, 1)).div_(h * w);
            }
            var (gradZ, gradGamma, gradBeta) = BatchNormTrainingGradient.Backward(normalized, invStd, gradY, gamma);
            gradY.Dispose();
            grads.Add(CustomFunctionLifetime.HandOver(gradZ));
            grads.Add(CustomFunctionLifetime.HandOver(gradGamma));
            grads.Add(CustomFunctionLifetime.HandOver(gradBeta));
        }
        gradOutput.Dispose();
        CustomFunctionLifetime.ReleaseSavedIfSingleBackward(ctx);
        return grads;
    }
}
