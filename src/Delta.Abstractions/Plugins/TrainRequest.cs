namespace Delta.Abstractions.Plugins;

/// <summary>A validated training job handed to a plugin.</summary>
public sealed record TrainRequest
{
    public required JobSpec Job { get; init; }
    public required ITaskOptions Options { get; init; }
    /// <summary>Absolute, checked to exist and to lie inside the data root.</summary>
    public required string DatasetPath { get; init; }
    /// <summary>Absolute folder for this run's metrics, pictures and logs (created by the host).</summary>
    public required string OutputDir { get; init; }
    /// <summary>Folder for checkpoints; when <see cref="Resume"/> and it holds one, training continues from it.</summary>
    public string? CheckpointDir { get; init; }
    public bool Resume { get; init; }
    public IProgress<TrainProgress>? Progress { get; init; }
}
