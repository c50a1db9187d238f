namespace Delta.Abstractions.Plugins;

/// <summary>Progress of long work, reported by the train loop's progress hook (numbers only, never tensors).</summary>
public sealed record TrainProgress
{
    public int Epoch { get; init; }
    public int Epochs { get; init; }
    public long Step { get; init; }
    /// <summary>Total steps planned, 0 when unknown.</summary>
    public long TotalSteps { get; init; }
    public double StepsPerSecond { get; init; }
    public double ItemsPerSecond { get; init; }
    public TimeSpan? Eta { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    public string? Message { get; init; }
}
