using Delta.Backbones.Autograd;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ResNets;

/// <summary>A ResNet residual block: y = relu(F(x) + shortcut(x)). <see cref="Downsample"/> is the projection
/// shortcut (1x1 conv + BN, torchvision's "downsample"), null for an identity shortcut.</summary>
public abstract class ResidualBlock : nn.Module<Tensor, Tensor>
{
    protected ResidualBlock(string name) : base(name) { }

    public abstract ProjectionShortcut? Downsample { get; }

    /// <summary>Folds every BN of the block (shortcut included) into its conv; frozen copies only
    /// (<see cref="BatchNormFolding"/>).</summary>
    internal void FoldBatchNorms()
    {
        foreach (var pair in ConvBatchNorms) pair.Fold();
        Downsample?.FoldBatchNorm();
    }

    /// <summary>Each conv with the BN that follows it, shortcut excluded.</summary>
    protected abstract IEnumerable<ConvBatchNorm> ConvBatchNorms { get; }

    /// <summary>ReLU of the block's sum F(x) + shortcut(x): in place, or, when the block is frozen on a gradient path,
    /// as an activation-free node that keeps a one-bit mask instead of the output (<see cref="FrozenLayerBackward"/>).
    /// A trainable block keeps libtorch's ReLU, whose saved output is the next layer's saved input anyway.</summary>
    protected Tensor ResidualRelu(Tensor sum)
    {
        if (!FrozenLayerBackward.Applies(sum, ConvBatchNorms.First().Conv.weight!)) return sum.relu_();
        using (sum) return MaskedReluFunction.Apply(sum);
    }
}
