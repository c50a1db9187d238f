namespace Delta.Service.Jobs;

/// <summary>One point of a job's metric history (for the curves on the status page).</summary>
public sealed record MetricPoint(long Step, IReadOnlyDictionary<string, double> Metrics);
