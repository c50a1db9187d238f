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
    public long Seed { get; init; }
}
