using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures;

/// <summary>
/// Folds an eval-mode BatchNorm into the convolution that feeds it, as inference engines do (ONNX Runtime at its
/// default graph optimisation level): BN(conv(x)) = conv'(x) with W' = W·s, b' = (b − μ)·s + β, s = γ/√(σ²+ε),
/// per output channel. Exact in real arithmetic; in fp32 the folded result differs from the two-step one in the
/// last bits (the product is rounded once, in float64 here, instead of after every op), so folding belongs to the
/// derived copies of a frozen base (<see cref="Precision.FrozenBaseCopy"/>), never to the exact fp32 base.
/// Only valid while the statistics are frozen: a module in training mode is refused.
/// </summary>
public static class BatchNormFolding
{
    public static void FoldInto(Conv2d conv, BatchNorm2d bn)
    {
        if (bn.training)
            throw new InvalidOperationException("BatchNorm folding needs frozen statistics (eval mode); this BatchNorm is training.");
        var weight = conv.weight ?? throw new InvalidOperationException("Convolution without weight.");
        if (bn.running_mean is null || bn.running_var is null)
            throw new InvalidOperationException("BatchNorm folding needs running statistics (track_running_stats).");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var dtype = weight.dtype;
        var device = weight.device;
        var mean = bn.running_mean.to_type(ScalarType.Float64);
        var scale = bn.running_var.to_type(ScalarType.Float64).add(bn.eps).rsqrt();
        if (bn.weight is not null) scale = scale.mul(bn.weight.to_type(ScalarType.Float64));
        var shift = bn.bias is null ? zeros_like(mean) : bn.bias.to_type(ScalarType.Float64);
        var oldBias = conv.bias is null ? zeros_like(mean) : conv.bias.to_type(ScalarType.Float64);
        var foldedWeight = weight.to_type(ScalarType.Float64).mul(scale.reshape(-1, 1, 1, 1)).to_type(dtype).contiguous();
        var foldedBias = oldBias.sub(mean).mul(scale).add(shift).to_type(dtype).contiguous();
        var requiresGrad = weight.requires_grad;
        conv.weight = new Parameter(foldedWeight.to(device).DetachFromDisposeScope(), requiresGrad);
        conv.bias = new Parameter(foldedBias.to(device).DetachFromDisposeScope(), requiresGrad);
    }
}
