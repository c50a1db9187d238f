using Delta.Abstractions.Backbones;
using Delta.Backbones.Architectures;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Precision;

/// <summary>How a derived copy of a frozen base differs from the base: its number format, its convolution weights'
/// layout, and whether its BatchNorms are folded into the convolutions. Each is a speed/numerics trade the exact
/// fp32 base never makes; <see cref="IsExact"/> is the base itself.</summary>
public sealed record FrozenCopyKind(ScalarType DType, bool ChannelsLast, bool FoldBatchNorm)
{
    public static FrozenCopyKind Exact { get; } = new(ScalarType.Float32, false, false);
    public bool IsExact => this == Exact;

    /// <summary>The copy a request asks for (<see cref="BackboneRequest.Precision"/>, <see cref="BackboneRequest.ChannelsLast"/>,
    /// <see cref="BackboneRequest.FoldBatchNorm"/>).</summary>
    public static FrozenCopyKind Of(BackboneRequest request) =>
        new(request.Precision == BackbonePrecision.BFloat16 ? FrozenBaseCopy.FastDType : ScalarType.Float32, request.ChannelsLast, request.FoldBatchNorm);

    /// <summary>The number format as the contract names it.</summary>
    public BackbonePrecision Precision => DType == ScalarType.Float32 ? BackbonePrecision.Float32 : BackbonePrecision.BFloat16;
}

/// <summary>
/// Builds a derived copy of a frozen base: the same architecture with the base's weights, then (in this order)
/// BatchNorms folded into the convolutions (in float64, <see cref="BatchNormFolding"/>), the weights cast once to the
/// copy's dtype (TorchSharp 0.107 has bf16 tensors but no autocast, so the cast is done on a copy instead of per op),
/// and every 4-D convolution weight given channels-last (NHWC) strides: 0.107 has no memory-format API, but libtorch
/// picks its channels-last kernels from the strides of the weight and the input (TORCHSHARP_NOTES §9). The fp32 base
/// is only read. The copy is frozen (requires_grad = false, eval) like the base it mirrors.
/// </summary>
public static class FrozenBaseCopy
{
    /// <summary>The fast mode's dtype.</summary>
    public const ScalarType FastDType = ScalarType.BFloat16;

    public static StagedBackbone Build(StagedBackbone fp32Base, Func<StagedBackbone> buildSameArchitecture, FrozenCopyKind kind, Device device)
    {
        if (kind.IsExact) throw new ArgumentException("The exact kind is the base itself, not a copy.", nameof(kind));
        var copy = buildSameArchitecture();
        copy.to(device);
        using (no_grad())
        {
            var source = fp32Base.state_dict();
            var target = copy.state_dict();
            if (!target.Keys.OrderBy(k => k, StringComparer.Ordinal).SequenceEqual(source.Keys.OrderBy(k => k, StringComparer.Ordinal), StringComparer.Ordinal))
                throw new InvalidOperationException("The derived copy's architecture does not match its base (state-dict keys differ).");
            foreach (var (key, t) in target) t.copy_(source[key]);
        }
        foreach (var p in copy.parameters()) p.requires_grad = false;
        copy.eval();
        if (kind.FoldBatchNorm) copy.FoldBatchNorms();
        if (kind.DType != ScalarType.Float32) copy.to(kind.DType);
        if (kind.ChannelsLast) ConvolutionsToChannelsLast(copy);
        return copy;
    }

    /// <summary>A [N, C, H, W] tensor with the same values in <paramref name="dtype"/> and, when asked, NHWC strides
    /// (one copy: dtype cast and layout change together). Returns <paramref name="x"/> itself when nothing changes.</summary>
    public static Tensor Convert(Tensor x, ScalarType dtype, bool channelsLast)
    {
        if (!channelsLast || x.dim() != 4 || IsChannelsLast(x)) return x.dtype == dtype ? x : x.to_type(dtype);
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
            // A 1x1 weight can already carry NHWC strides (its strides are ambiguous and casts may pick them).
            if (IsChannelsLast(old)) continue;
            Tensor cl;
            using (no_grad()) cl = Convert(old, old.dtype, channelsLast: true);
            conv.weight = new Parameter(cl, requires_grad: false);
            old.Dispose();
        }
    }
}
