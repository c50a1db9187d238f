using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures;

/// <summary>
/// A convolution and the BatchNorm after it, run as bn(conv(x)) until <see cref="Fold"/> folds the BN into the conv
/// (<see cref="BatchNormFolding"/>; frozen derived copies only) and it runs as conv'(x). Not a module: the owner keeps
/// the conv and the BN registered under their state-dict names (which do not change when folded); this only decides
/// how they run.
/// </summary>
public sealed class ConvBatchNorm(Conv2d conv, BatchNorm2d bn)
{
    public bool Folded { get; private set; }

    public Tensor Forward(Tensor x)
    {
        var y = conv.call(x);
        return Folded ? y : bn.call(y);
    }

    public void Fold()
    {
        if (Folded) return;
        BatchNormFolding.FoldInto(conv, bn);
        Folded = true;
    }
}
