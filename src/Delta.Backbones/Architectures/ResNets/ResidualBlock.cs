using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ResNets;

/// <summary>A ResNet residual block: y = relu(F(x) + shortcut(x)). <see cref="Downsample"/> is the projection
/// shortcut (1x1 conv + BN, torchvision's "downsample"), null for an identity shortcut.</summary>
public abstract class ResidualBlock : nn.Module<Tensor, Tensor>
{
    protected ResidualBlock(string name) : base(name) { }

    public abstract nn.Module<Tensor, Tensor>? Downsample { get; }
}
