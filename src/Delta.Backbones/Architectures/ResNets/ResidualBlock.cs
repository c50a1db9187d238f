using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ResNets;

/// <summary>A ResNet residual block: y = relu(F(x) + shortcut(x)). <see cref="Downsample"/> is the projection
/// shortcut (1x1 conv + BN, torchvision's "downsample"), null for an identity shortcut.</summary>
public abstract class ResidualBlock : nn.Module<Tensor, Tensor>
{
    protected ResidualBlock(string name) : base(name) { }

    public abstract ProjectionShortcut? Downsample { get; }

    /// <summary>True once <see cref="FoldBatchNorms"/> ran: the BNs are folded into their convs and skipped.</summary>
    protected bool BatchNormsFolded { get; private set; }

    /// <summary>Folds every BN of the block (shortcut included) into its conv; frozen copies only
    /// (<see cref="BatchNormFolding"/>).</summary>
    internal void FoldBatchNorms()
    {
        if (BatchNormsFolded) return;
        foreach (var (conv, bn) in ConvBatchNormPairs) BatchNormFolding.FoldInto(conv, bn);
        Downsample?.FoldBatchNorm();
        BatchNormsFolded = true;
    }

    /// <summary>Each conv with the BN that follows it, shortcut excluded.</summary>
    protected abstract IEnumerable<(Conv2d Conv, BatchNorm2d Bn)> ConvBatchNormPairs { get; }

    /// <summary>bn(y), or y itself once the BN is folded into the conv that produced y.</summary>
    protected Tensor Normalize(BatchNorm2d bn, Tensor y) => BatchNormsFolded ? y : bn.call(y);
}
