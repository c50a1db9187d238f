namespace Delta.Plugins.DeepLabV3.Training;

/// <summary>
/// What a DeepLab-V3 run trains (paper Table 7). Option names in brackets are what job files accept
/// (<see cref="DeepLabV3Options.Mode"/>).
/// </summary>
public enum SegmentationTrainingMode
{
    /// <summary>[delta] The paper's method: the shared frozen base + this task's Δ-modules (the job's "delta" section,
    /// stages ≥ 1) + heads. Only Δ and heads train; dropping them gives the base back exactly (zero drop).</summary>
    Delta,
    /// <summary>[frozen] The shared frozen base without Δ-modules; only the heads train (the job's "delta" section is not used).</summary>
    Frozen,
    /// <summary>[finetune] Full fine-tuning baseline: a private, trainable copy of the base + heads, no Δ. NO zero-drop
    /// guarantee: the copy's weights move, so its patch holds the whole fine-tuned backbone ("delta.base.*").
    /// The shared base in the registry is never touched.</summary>
    FineTune,
}

/// <summary>Names of <see cref="SegmentationTrainingMode"/> as job files spell them.</summary>
public static class SegmentationTrainingModes
{
    public static IReadOnlyDictionary<string, SegmentationTrainingMode> Names { get; } =
        new Dictionary<string, SegmentationTrainingMode>(StringComparer.OrdinalIgnoreCase)
        {
            ["delta"] = SegmentationTrainingMode.Delta,
            ["frozen"] = SegmentationTrainingMode.Frozen,
            ["finetune"] = SegmentationTrainingMode.FineTune,
        };

    public static bool TryParse(string? name, out SegmentationTrainingMode mode) => Names.TryGetValue(name ?? "", out mode);

    public static SegmentationTrainingMode Parse(string name) =>
        TryParse(name, out var mode) ? mode : throw new ArgumentException($"Unknown DeepLab-V3 mode '{name}'. Valid: {string.Join(", ", Names.Keys)}.");

    public static string Name(SegmentationTrainingMode mode) => Names.First(kv => kv.Value == mode).Key;
}
