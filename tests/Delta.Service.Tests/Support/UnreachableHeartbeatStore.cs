using Delta.Service.Jobs;
using Delta.Service.Store;

namespace Delta.Service.Tests.Support;

/// <summary>A store whose heartbeats fail once <see cref="Unreachable"/> is set (the database went away for this host),
/// counting the calls that would write a running job's end.</summary>
public sealed class UnreachableHeartbeatStore(IJobStore inner) : IJobStore
{
    public volatile bool Unreachable;
    private int endings;
    /// <summary>CompleteAsync and ReleaseAsync calls: what a host that gave its job up must not make.</summary>
    public int Endings => endings;

    /// <summary>When the last claim or heartbeat that got through was called (Stopwatch timestamp): the worker's lease
    /// runs from no earlier than this (it reads its clock just before each call).</summary>
    public long LeaseRenewedAt => Interlocked.Read(ref lastThrough);
    private long lastThrough;

    public async Task<bool?> HeartbeatAsync(string id, string owner, TimeSpan lease, CancellationToken ct = default)
    {
        if (Unreachable) throw new TimeoutException("store unreachable (test)");
        var calledAt = System.Diagnostics.Stopwatch.GetTimestamp();
        var r = await inner.HeartbeatAsync(id, owner, lease, ct);
        Interlocked.Exchange(ref lastThrough, calledAt);
        return r;
    }

    public Task<bool> CompleteAsync(string id, string owner, JobOutcome outcome, CancellationToken ct = default)
    {
        Interlocked.Increment(ref endings);
        return inner.CompleteAsync(id, owner, outcome, ct);
    }

    public Task<bool> ReleaseAsync(string id, string owner, CancellationToken ct = default)
    {
        Interlocked.Increment(ref endings);
        return inner.ReleaseAsync(id, owner, ct);
    }

    public Task InitializeAsync(CancellationToken ct = default) => inner.InitializeAsync(ct);
    public Task<(JobRecord Job, bool Created)> SubmitAsync(JobSubmission submission, CancellationToken ct = default) => inner.SubmitAsync(submission, ct);
    public async Task<JobRecord?> ClaimNextAsync(string device, string owner, TimeSpan lease, CancellationToken ct = default)
    {
        var calledAt = System.Diagnostics.Stopwatch.GetTimestamp();
        var job = await inner.ClaimNextAsync(device, owner, lease, ct);
        if (job is not null) Interlocked.Exchange(ref lastThrough, calledAt);
        return job;
    }
    public Task<bool> UpdateProgressAsync(string id, string owner, IReadOnlyList<JobProgress> reports, bool replaceFromFirstStep = false, CancellationToken ct = default) =>
        inner.UpdateProgressAsync(id, owner, reports, replaceFromFirstStep, ct);
    public Task AppendLogAsync(string id, string text, CancellationToken ct = default) => inner.AppendLogAsync(id, text, ct);
    public Task<JobRecord?> RequestCancelAsync(string id, CancellationToken ct = default) => inner.RequestCancelAsync(id, ct);
    public Task<int> RequeueStaleAsync(string? formerOwner, CancellationToken ct = default) => inner.RequeueStaleAsync(formerOwner, ct);
    public Task<JobRecord?> GetAsync(string id, CancellationToken ct = default) => inner.GetAsync(id, ct);
    public Task<IReadOnlyList<JobRecord>> ListAsync(int limit = 200, CancellationToken ct = default) => inner.ListAsync(limit, ct);
    public Task<IReadOnlyList<LogLine>> GetLogsAsync(string id, long afterSeq = 0, CancellationToken ct = default) => inner.GetLogsAsync(id, afterSeq, ct);
    public Task<JobRecord?> FindByIdempotencyKeyAsync(string key, CancellationToken ct = default) => inner.FindByIdempotencyKeyAsync(key, ct);
    public Task<IReadOnlyList<MetricPoint>> GetMetricHistoryAsync(string id, int maxPoints = 0, CancellationToken ct = default) => inner.GetMetricHistoryAsync(id, maxPoints, ct);
}
