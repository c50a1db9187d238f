using Delta.Backbones.Precision;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ResNets;

/// <summary>
/// The stem's max-pool on libtorch's channels-last CPU kernel, whatever the input's layout. libtorch's NCHW kernel
/// is scalar (and computes indices it then drops): timed alone on 2 cores, 32.7 ms for the stem's [8, 64, 112, 112],
/// the channels-last kernel, vectorised over channels, 2.8 ms (docs/PERFORMANCE.md has the end-to-end gain). A max is
/// exact, so the values are the same bit for bit; an NCHW input gets an NCHW output back, so the next convolution keeps
/// its algorithm (and the exact mode its bits). Where autograd records (a trainable base) or off the CPU, the module
/// runs as it is.
/// </summary>
internal static class StemMaxPool
{
    public static Tensor Forward(MaxPool2d pool, Tensor x)
    {
        if (x.requires_grad || x.device_type != TorchSharp.DeviceType.CPU || x.dim() != 4 || FrozenBaseCopy.IsChannelsLast(x))
            return pool.call(x);
        using var scope = NewDisposeScope();
        var pooled = pool.call(FrozenBaseCopy.Convert(x, x.dtype, channelsLast: true));
        return pooled.contiguous().MoveToOuterDisposeScope();
    }
}
