namespace Delta.Abstractions.Backbones;

/// <summary>
/// Which stages get Δ-modules and how. <see cref="Stages"/> = n puts Δ-modules on the last n stages
/// (Δ-Networks(n), n ∈ {0, 1, 2, 4}; 0 = plain frozen backbone). <see cref="BatchNorm"/> toggles the
/// extra BatchNorm the paper adds per Δ-module against the variance growth of summed skips.
/// </summary>
public sealed record DeltaConfig
{
    public int Stages { get; init; } = 1;
    public DeltaVariant Variant { get; init; } = DeltaVariant.Delta;
    public bool BatchNorm { get; init; } = true;
    /// <summary>Width of the Δ-module's two 3x3 convs; null = the stage input's channel count / 2 (min 16), the width that reproduces the paper's Table 2 counts.</summary>
    public int? HiddenChannels { get; init; }
    /// <summary>Δ_s first average-pools the stage input by this factor (kernel = stride = s, partial windows kept), so
    /// its two 3x3 convs run on 1/s² of the positions. 1 (default) = as in the paper. Δ_s ends in a global average pool,
    /// so the gates still see the whole input; what changes is the spatial detail of their evidence and the cost:
    /// with the default width Δ_s's convs are about as much arithmetic as the ResNet-50 itself for Δ(4)
    /// (docs/PERFORMANCE.md), and s = 4 cuts that to 1/16. Parameter counts do not change.</summary>
    public int GateStride { get; init; } = 1;

    public static DeltaConfig None { get; } = new() { Stages = 0 };

    /// <summary>Registry names of <see cref="DeltaVariant"/>, in enum order.</summary>
    public static IReadOnlyDictionary<string, DeltaVariant> VariantNames { get; } = new Dictionary<string, DeltaVariant>(StringComparer.OrdinalIgnoreCase)
    {
        ["delta"] = DeltaVariant.Delta,
        ["random"] = DeltaVariant.RandomGates,
        ["existing-learnable"] = DeltaVariant.LearnableExistingSkips,
        ["all-fixed"] = DeltaVariant.AllSkipsFixed,
        ["all-learnable"] = DeltaVariant.AllSkipsLearnable,
    };

    public static DeltaVariant ParseVariant(string name) =>
        VariantNames.TryGetValue(name, out var v) ? v
        : throw new ArgumentException($"Unknown Δ variant '{name}'. Valid: {string.Join(", ", VariantNames.Keys)}.");

    public static string VariantName(DeltaVariant v) => VariantNames.First(kv => kv.Value == v).Key;

    public IEnumerable<string> Validate()
    {
        if (Stages is not (0 or 1 or 2 or 3 or 4)) yield return $"delta.stages must be 0..4 (got {Stages}).";
        if (HiddenChannels is <= 0) yield return $"delta.hiddenChannels must be positive (got {HiddenChannels}).";
        if (GateStride is < 1 or > 32) yield return $"delta.gateStride must be 1..32 (got {GateStride}).";
    }
}
