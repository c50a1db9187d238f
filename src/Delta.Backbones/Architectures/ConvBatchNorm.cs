using Delta.Backbones.Autograd;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures;

/// <summary>
/// A convolution and the BatchNorm after it, run as bn(conv(x)) until <see cref="Fold"/> folds the BN into the conv
/// (<see cref="BatchNormFolding"/>; frozen derived copies only) and it runs as conv'(x). Not a module: the owner keeps
/// the conv and the BN registered under their state-dict names (which do not change when folded); this only decides
/// how they run. When frozen (weights without gradients, BN in eval mode) on a gradient path, the unit and an optional
/// ReLU after it run as one activation-free autograd node (<see cref="FrozenLayerBackward"/>); the values are the same.
/// </summary>
public sealed class ConvBatchNorm(Conv2d conv, BatchNorm2d bn)
{
    public bool Folded { get; private set; }

    internal Conv2d Conv => conv;

    public Tensor Forward(Tensor x) =>
        ActivationFree(x) ? FrozenConvUnitFunction.Apply(this, x, relu: false) : ForwardUnrecorded(x);

    /// <summary>ReLU(<see cref="Forward"/>(x)), the ReLU in place on the unit's fresh output.</summary>
    public Tensor ForwardRelu(Tensor x) =>
        ActivationFree(x) ? FrozenConvUnitFunction.Apply(this, x, relu: true) : ForwardUnrecorded(x).relu_();

    /// <summary>The unit's own ops, recorded by autograd as libtorch records them (or not at all under no_grad).</summary>
    internal Tensor ForwardUnrecorded(Tensor x)
    {
        var y = conv.call(x);
        if (Folded) return y;
        using (y) return bn.call(y);   // the conv output is freed now, not when the caller's scope ends
    }

    /// <summary>The per-channel factor an eval-mode BN applies to its input's gradient, γ / √(σ² + ε) as
    /// [1, C, 1, 1] in <paramref name="dtype"/>; null when folded (the conv'(x) has no BN left).</summary>
    internal Tensor? InputGradientScale(ScalarType dtype)
    {
        if (Folded) return null;
        var scale = bn.running_var!.to_type(ScalarType.Float32).add(bn.eps).rsqrt();
        if (bn.weight is not null) scale = scale.mul(bn.weight.to_type(ScalarType.Float32));
        return scale.reshape(1, -1, 1, 1).to_type(dtype);
    }

    public void Fold()
    {
        if (Folded) return;
        BatchNormFolding.FoldInto(conv, bn);
        Folded = true;
    }

    private bool ActivationFree(Tensor x) =>
        FrozenLayerBackward.Applies(x, conv.weight!)
        && (Folded || (!bn.training && bn.weight?.requires_grad != true && bn.bias?.requires_grad != true));
}
