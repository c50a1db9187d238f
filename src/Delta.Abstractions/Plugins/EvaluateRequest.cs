namespace Delta.Abstractions.Plugins;

public sealed record EvaluateRequest
{
    /// <summary>Patch store name or path.</summary>
    public required string Patch { get; init; }
    /// <summary>Absolute, inside the data root.</summary>
    public required string DatasetPath { get; init; }
    public required ITaskOptions Options { get; init; }
    public required string OutputDir { get; init; }
    /// <summary>Dataset split to score ("test", "val", ...); the plugin documents which it accepts.</summary>
    public string Split { get; init; } = "test";
    public IProgress<TrainProgress>? Progress { get; init; }
}
