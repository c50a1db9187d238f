namespace Delta.Service.Jobs;

/// <summary>Latest progress of a running job (numbers only). <see cref="EtaSeconds"/> is null when unknown.</summary>
public sealed record JobProgress
{
    public int Epoch { get; init; }
    public int Epochs { get; init; }
    public long Step { get; init; }
    public long TotalSteps { get; init; }
    public double StepsPerSecond { get; init; }
    public double? EtaSeconds { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
}
