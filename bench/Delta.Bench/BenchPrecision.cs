using Delta.Abstractions.Backbones;

namespace Delta.Bench;

/// <summary>
/// How the frozen base runs, as the bench names it: a number format, "fp32" (the exact mode when alone, the default)
/// or "bf16" (the fast mode), followed by any of "+cl" (channels-last copy) and "+fold" (BatchNorms folded into the
/// convolutions), "+dbf16" (the Δ-modules' convolutions compute in bf16 from fp32 weights, autocast-style) and
/// "+sbf16" (the Δ-stages' gated skip sums and skip BNs compute in bf16, autocast-style; bf16 base only):
/// "fp32", "fp32+cl+fold" (the fused fp32 inference graph, what ONNX Runtime does to the same model),
/// "bf16+cl+fold" (the fast mode, what <c>--fast</c> selects), "bf16+cl+fold+dbf16" (<c>--fast --delta-bf16</c>),
/// "bf16+cl+fold+dbf16+sbf16" (<c>--fast --autocast</c>, the like-for-like counterpart of PyTorch's bf16 autocast), …
/// </summary>
public sealed record BenchPrecision(BackbonePrecision Precision, bool ChannelsLast, bool FoldBatchNorm, bool DeltaBf16 = false, bool SkipBf16 = false)
{
    public static BenchPrecision Fp32 { get; } = new(BackbonePrecision.Float32, false, false);
    public static BenchPrecision Fused { get; } = new(BackbonePrecision.Float32, true, true);
    public static BenchPrecision Bf16 { get; } = new(BackbonePrecision.BFloat16, false, false);
    /// <summary>The fast mode as <c>delta train --fast</c> sets it up.</summary>
    public static BenchPrecision Fast { get; } = new(BackbonePrecision.BFloat16, true, true);
    /// <summary>The fast mode with the Δ convolutions in bf16 too (<c>delta train --fast --delta-bf16</c>).</summary>
    public static BenchPrecision FastDeltaBf16 { get; } = new(BackbonePrecision.BFloat16, true, true, DeltaBf16: true);
    /// <summary>The fast mode with the Δ convolutions and the skip sums in bf16 (<c>delta train --fast --autocast</c>).</summary>
    public static BenchPrecision FastAutocast { get; } = new(BackbonePrecision.BFloat16, true, true, DeltaBf16: true, SkipBf16: true);

    public string Label => (Precision == BackbonePrecision.Float32 ? "fp32" : "bf16") + (ChannelsLast ? "+cl" : "") + (FoldBatchNorm ? "+fold" : "") + (DeltaBf16 ? "+dbf16" : "") + (SkipBf16 ? "+sbf16" : "");

    public bool IsExact => this == Fp32;

    public static BenchPrecision Parse(string label)
    {
        var parts = label.Trim().ToLowerInvariant().Split('+');
        var precision = parts[0] switch
        {
            "fp32" => BackbonePrecision.Float32,
            "bf16" => BackbonePrecision.BFloat16,
            _ => throw new ArgumentException($"Unknown precision '{label}': fp32 or bf16, optionally followed by +cl, +fold, +dbf16 and +sbf16 (e.g. fp32+cl+fold, bf16+cl+fold+dbf16+sbf16)."),
        };
        var flags = parts.Skip(1).ToList();
        var unknown = flags.Where(f => f is not ("cl" or "fold" or "dbf16" or "sbf16")).ToList();
        if (unknown.Count > 0 || flags.Distinct().Count() != flags.Count)
            throw new ArgumentException($"Unknown or repeated precision flag in '{label}': the flags are +cl, +fold, +dbf16 and +sbf16.");
        if (flags.Contains("sbf16") && precision != BackbonePrecision.BFloat16)
            throw new ArgumentException($"'{label}': +sbf16 (skip sums in bf16) needs the bf16 base.");
        return new(precision, flags.Contains("cl"), flags.Contains("fold"), flags.Contains("dbf16"), flags.Contains("sbf16"));
    }

    public BackboneRequest Apply(BackboneRequest request) => request with
    {
        Precision = Precision, ChannelsLast = ChannelsLast, FoldBatchNorm = FoldBatchNorm,
        DeltaConvolutions = DeltaBf16 ? BackbonePrecision.BFloat16 : BackbonePrecision.Float32,
        DeltaSkipSums = SkipBf16 ? BackbonePrecision.BFloat16 : BackbonePrecision.Float32,
    };

    /// <summary>"" for the exact fp32 mode (the names the existing JSON consumers know), " [label]" otherwise.</summary>
    public string Suffix => IsExact ? "" : $" [{Label}]";
}
