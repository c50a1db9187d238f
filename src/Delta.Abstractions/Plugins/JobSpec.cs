using Delta.Abstractions.Backbones;

namespace Delta.Abstractions.Plugins;

/// <summary>
/// A training job as a job file states it (JSON, camelCase keys). The host validates it before any
/// plugin code runs: unknown keys, unknown plugin/backbone, datasets outside the data root, and bad
/// hyper-parameters are errors that name the key. Plugin-specific settings are in "options", bound to
/// the plugin's <see cref="ITaskPlugin.OptionsType"/>.
/// </summary>
public sealed record JobSpec
{
    /// <summary>Patch name to save under (also the run's output folder name).</summary>
    public required string Name { get; init; }
    public required string Plugin { get; init; }
    public string Backbone { get; init; } = "resnet18_cntk";
    public string Weights { get; init; } = "imagenet";
    public DeltaConfig Delta { get; init; } = new();
    /// <summary>Dataset path relative to the data root (or absolute inside it).</summary>
    public required string Dataset { get; init; }
    public TrainingHyperParameters Hyper { get; init; } = new();
    /// <summary>"cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>How the frozen base runs: "exact" (the default: Δ off gives the base model bit for bit), "fused",
    /// "fast", "fast-delta-bf16" or "fast-autocast" — the train verb's <c>--fused</c>, <c>--fast</c>,
    /// <c>--fast --delta-bf16</c> and <c>--fast --autocast</c>, for jobs run by the service (docs/PERFORMANCE.md).
    /// The patch is the same kind in every mode.</summary>
    public string FrozenBase { get; init; } = "exact";
    public long Seed { get; init; }
}
