using Delta.Abstractions.Backbones;

namespace Delta.Abstractions.Patches;

/// <summary>
/// The JSON manifest of a Δ-patch. A patch file = this manifest + the patch tensors (Δ-module weights
/// under "delta.*", task head weights under "head.*", any further task tensors under their own prefix)
/// + a SHA-256 checksum over both. A Δ-patch never contains base weights: it records which base it belongs to.
/// The exception is a baseline that fine-tunes the backbone (the detection and segmentation plugins' `finetune`
/// mode): its "patch" carries the whole fine-tuned copy under "delta.base.*", is marked in its properties
/// (mode = finetune, zeroDrop = false), and is as large as a model copy — which is the point of comparing with it.
/// </summary>
public sealed record PatchManifest
{
    public const int CurrentFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;
    public required string Architecture { get; init; }
    /// <summary>Name of the base weights ("imagenet", "random", or a file name).</summary>
    public required string BaseWeights { get; init; }
    public required string BaseWeightsSha256 { get; init; }
    public required DeltaConfig Delta { get; init; }
    public required string PluginId { get; init; }
    /// <summary>Human task name, e.g. "mnist".</summary>
    public required string Task { get; init; }
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    public DateTimeOffset CreatedUtc { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>Small plugin-specific settings needed to rebuild the head (input size, head kind, ...).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    public BaseIdentity BaseIdentity => new(Architecture, BaseWeights, BaseWeightsSha256);
}
