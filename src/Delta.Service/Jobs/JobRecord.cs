namespace Delta.Service.Jobs;

/// <summary>One job as the store holds it. <see cref="Spec"/> is the validated job JSON.</summary>
public sealed record JobRecord
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Device { get; init; }
    public required string Spec { get; init; }
    public JobState State { get; init; }
    public string? IdempotencyKey { get; init; }
    /// <summary>Host id holding the lease while running.</summary>
    public string? Owner { get; init; }
    public DateTimeOffset? LeaseExpires { get; init; }
    /// <summary>How many times a host has claimed this job (above 1: it was resumed after a lost lease or restart).</summary>
    public int Attempts { get; init; }
    /// <summary>How many of those attempts ended with their host stopping gracefully (checkpointed, back in the queue):
    /// the others ended without any word from their host (a crash, a lost lease).</summary>
    public int GracefulReleases { get; init; }
    public bool CancelRequested { get; init; }
    public string? Error { get; init; }
    public JobProgress? Progress { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    public IReadOnlyList<string> Artifacts { get; init; } = [];
    public DateTimeOffset Created { get; init; }
    public DateTimeOffset? Started { get; init; }
    public DateTimeOffset? Finished { get; init; }
}
