using Delta.Abstractions.Backbones;

namespace Delta.Bench;

/// <summary>A backbone precision mode as the bench names it: "fp32" (exact, the default), "bf16" (fast mode,
/// contiguous layout) or "bf16+cl" (fast mode with channels-last, what <c>--fast</c> selects).</summary>
public sealed record BenchPrecision(string Label, BackbonePrecision Precision, bool ChannelsLast)
{
    public static BenchPrecision Fp32 { get; } = new("fp32", BackbonePrecision.Float32, false);
    public static BenchPrecision Bf16 { get; } = new("bf16", BackbonePrecision.BFloat16, false);
    public static BenchPrecision Fast { get; } = new("bf16+cl", BackbonePrecision.BFloat16, true);

    public static IReadOnlyList<BenchPrecision> All { get; } = [Fp32, Bf16, Fast];

    public static BenchPrecision Parse(string label) =>
        All.FirstOrDefault(p => p.Label == label) ?? throw new ArgumentException($"Unknown precision '{label}'. Valid: {string.Join(", ", All.Select(p => p.Label))}.");

    public BackboneRequest Apply(BackboneRequest request) => request with { Precision = Precision, ChannelsLast = ChannelsLast };

    /// <summary>"" for fp32 (the names the existing JSON consumers know), " [bf16+cl]" otherwise.</summary>
    public string Suffix => Precision == BackbonePrecision.Float32 ? "" : $" [{Label}]";
}
