using static TorchSharp.torch;

namespace Delta.Backbones.Autograd;

/// <summary>
/// BatchNorm's training-mode gradient (batch statistics over N, H, W; M = N·H·W), for the activation-free nodes that
/// recompute a BN's input instead of keeping it:
/// <code>
///   x̂ = (x − μ)/σ     ∂L/∂β = Σ g      ∂L/∂γ = Σ g ⊙ x̂      ∂L/∂x = γ/(σ·M) · (M·g − ∂L/∂β − x̂ ⊙ ∂L/∂γ)
/// </code>
/// with σ = √(biased variance + ε), as libtorch's batch_norm normalises in training mode.
/// </summary>
internal static class BatchNormTrainingGradient
{
    private static readonly long[] Reduce = [0, 2, 3];

    /// <summary>Whether a node that recomputes this BN's input applies: autograd records, the activation-free mode is
    /// on, and the BN normalises with batch statistics through affine parameters (a trainable BN while training).</summary>
    public static bool AppliesTo(TorchSharp.Modules.BatchNorm2d bn) =>
        FrozenLayerBackward.ActivationFree && is_grad_enabled() && bn.training && bn.weight is not null && bn.bias is not null;

    /// <summary>x [N, C, H, W] ↦ (x̂, 1/σ [1, C, 1, 1]); x̂ is computed in place on <paramref name="input"/> when
    /// <paramref name="inPlace"/> (a recomputed tensor nobody else holds).</summary>
    public static (Tensor Normalized, Tensor InvStd) Normalize(Tensor input, double eps, bool inPlace)
    {
        var mean = input.mean(Reduce, keepdim: true);
        var centered = inPlace ? input.sub_(mean) : input - mean;
        var invStd = centered.square().mean(Reduce, keepdim: true).add_(eps).rsqrt_();
        return (centered.mul_(invStd), invStd);
    }

    /// <summary>(∂L/∂x, ∂L/∂γ [C], ∂L/∂β [C]) from x̂ (overwritten: ∂L/∂x is built in its buffer), 1/σ, g = ∂L/∂y, γ.</summary>
    public static (Tensor GradInput, Tensor GradGamma, Tensor GradBeta) Backward(Tensor normalized, Tensor invStd, Tensor gradOutput, Tensor gamma)
    {
        long count = gradOutput.numel() / gradOutput.shape[1];
        var gradBeta = gradOutput.sum(Reduce, keepdim: true);
        Tensor gradGamma;
        using (var product = gradOutput * normalized) gradGamma = product.sum(Reduce, keepdim: true);
        var gradInput = normalized.mul_(gradGamma).neg_().add_(gradOutput, count).sub_(gradBeta)
            .mul_(gamma.reshape(1, -1, 1, 1) * invStd / count);
        return (gradInput, gradGamma.flatten(), gradBeta.flatten());
    }
}
