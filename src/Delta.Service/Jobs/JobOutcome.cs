namespace Delta.Service.Jobs;

/// <summary>How a run ended; <see cref="State"/> is terminal.</summary>
public sealed record JobOutcome(JobState State, string? Error, IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<string> Artifacts)
{
    public static JobOutcome Failed(string error) => new(JobState.Failed, error, new Dictionary<string, double>(), []);
    public static JobOutcome Cancelled() => new(JobState.Cancelled, "cancelled by request", new Dictionary<string, double>(), []);
}
