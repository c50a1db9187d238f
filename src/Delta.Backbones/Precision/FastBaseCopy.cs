using Delta.Backbones.Architectures;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Precision;

/// <summary>
/// Builds the fast-mode twin of a frozen base: the same architecture with the base's weights cast once to bfloat16
/// (TorchSharp 0.107 has bf16 tensors but no autocast, so the cast is done on a copy instead of per op). The fp32
/// base is only read. Optionally every 4-D convolution weight gets channels-last (NHWC) strides: 0.107 has no
/// memory-format API, but libtorch picks its channels-last kernels from the strides of the weight and the input
/// (TORCHSHARP_NOTES §9). The copy is frozen (requires_grad = false, eval) like the base it mirrors.
/// </summary>
public static class FastBaseCopy
{
    public const ScalarType DType = ScalarType.BFloat16;

    public static StagedBackbone Build(StagedBackbone fp32Base, Func<StagedBackbone> buildSameArchitecture, bool channelsLast, Device device)
    {
        var copy = buildSameArchitecture();
        copy.to(device);
        using (no_grad())
        {
            var source = fp32Base.state_dict();
            var target = copy.state_dict();
            if (!target.Keys.OrderBy(k => k, StringComparer.Ordinal).SequenceEqual(source.Keys.OrderBy(k => k, StringComparer.Ordinal), StringComparer.Ordinal))
                throw new InvalidOperationException("The fast copy's architecture does not match its base (state-dict keys differ).");
            foreach (var (key, t) in target) t.copy_(source[key]);
        }
        foreach (var p in copy.parameters()) p.requires_grad = false;
        copy.eval();
        copy.to(DType);
        if (channelsLast) ConvolutionsToChannelsLast(copy);
        return copy;
    }

    /// <summary>A [N, C, H, W] tensor with the same values in <paramref name="dtype"/> and, when asked, NHWC strides
    /// (one copy: dtype cast and layout change together).</summary>
    public static Tensor Convert(Tensor x, ScalarType dtype, bool channelsLast)
    {
        if (!channelsLast || x.dim() != 4) return x.to_type(dtype);
        var t = empty_strided(x.shape, ChannelsLastStrides(x.shape), dtype: dtype, device: x.device);
        t.copy_(x);
        return t;
    }

    /// <summary>True when a 4-D tensor is laid out NHWC (channel stride 1).</summary>
    public static bool IsChannelsLast(Tensor t) => t.dim() == 4 && t.stride().SequenceEqual(ChannelsLastStrides(t.shape));

    private static long[] ChannelsLastStrides(long[] shape)
    {
        long c = shape[1], h = shape[2], w = shape[3];
        return [c * h * w, 1, w * c, c];
    }

    /// <summary>Replaces each Conv2d weight by an NHWC-strided copy. A fresh leaf made with empty_strided + copy_
    /// (not a permute view, which autograd rejects as "a view created in no_grad mode", §9).</summary>
    private static void ConvolutionsToChannelsLast(nn.Module model)
    {
        foreach (var conv in model.modules().OfType<Conv2d>())
        {
            var old = conv.weight!;
            Tensor cl;
            using (no_grad()) cl = Convert(old, old.dtype, channelsLast: true);
            conv.weight = new Parameter(cl, requires_grad: false);
            old.Dispose();
        }
    }
}
