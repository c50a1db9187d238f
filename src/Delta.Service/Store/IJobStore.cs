using Delta.Service.Jobs;

namespace Delta.Service.Store;

/// <summary>
/// The persistent job queue. Every state change is one transaction. Calls that act for a running job
/// take the owner (host id): they do nothing and return false once that host no longer holds the lease,
/// so a host that lost its job to another can never overwrite the other's progress or outcome.
/// </summary>
public interface IJobStore
{
    Task InitializeAsync(CancellationToken ct = default);
    /// <summary>Enqueues a job; with an idempotency key already used, returns the existing job and false when the spec is the
    /// one submitted with the key (text compared exactly), and throws <see cref="IdempotencyKeyReusedException"/> when it is
    /// another. A job whose name
    /// a job that has not ended (queued or running) already has is refused with <see cref="JobNameTakenException"/>
    /// (one check with the insert: of submissions racing with one name, exactly one gets in).</summary>
    Task<(JobRecord Job, bool Created)> SubmitAsync(JobSubmission submission, CancellationToken ct = default);
    /// <summary>Takes the oldest queued job for the device (atomic; never hands one job to two hosts).</summary>
    Task<JobRecord?> ClaimNextAsync(string device, string owner, TimeSpan lease, CancellationToken ct = default);
    /// <summary>Extends the lease; null when the lease was lost, else whether cancellation was requested.</summary>
    Task<bool?> HeartbeatAsync(string id, string owner, TimeSpan lease, CancellationToken ct = default);
    /// <summary>Records a run of progress reports (in step order) in one transaction: the job's progress becomes the last,
    /// and each report with metrics becomes a history point. With <paramref name="replaceFromFirstStep"/> (a new attempt's
    /// first write), points at or after the first report's step are dropped first: a resumed attempt repeats the steps
    /// after its checkpoint, and the history must not hold them twice.</summary>
    Task<bool> UpdateProgressAsync(string id, string owner, IReadOnlyList<JobProgress> reports, bool replaceFromFirstStep = false, CancellationToken ct = default);
    Task AppendLogAsync(string id, string text, CancellationToken ct = default);
    Task<bool> CompleteAsync(string id, string owner, JobOutcome outcome, CancellationToken ct = default);
    /// <summary>Puts a running job back in the queue (graceful shutdown: the next claim resumes its checkpoint); one whose
    /// cancel was requested ends cancelled instead.</summary>
    Task<bool> ReleaseAsync(string id, string owner, CancellationToken ct = default);
    /// <summary>Queued jobs are cancelled at once; running ones are flagged and their worker stops them.</summary>
    Task<JobRecord?> RequestCancelAsync(string id, CancellationToken ct = default);
    /// <summary>Requeues running jobs whose lease expired, or (after a restart) that this owner held; those whose cancel
    /// was requested end cancelled instead. Returns how many it took back, both kinds.</summary>
    Task<int> RequeueStaleAsync(string? formerOwner, CancellationToken ct = default);
    Task<JobRecord?> GetAsync(string id, CancellationToken ct = default);
    /// <summary>The job submitted with this idempotency key, if any.</summary>
    Task<JobRecord?> FindByIdempotencyKeyAsync(string key, CancellationToken ct = default);
    Task<IReadOnlyList<JobRecord>> ListAsync(int limit = 200, CancellationToken ct = default);
    Task<IReadOnlyList<LogLine>> GetLogsAsync(string id, long afterSeq = 0, CancellationToken ct = default);
    /// <summary>The job's history points in step order; with <paramref name="maxPoints"/> &gt; 0, at most about that many,
    /// evenly spaced over the history, always with its last point and every epoch's end (a point with "epoch_" metrics:
    /// epoch means and validation come at that step only), for charts: a long job has a point per step.</summary>
    Task<IReadOnlyList<MetricPoint>> GetMetricHistoryAsync(string id, int maxPoints = 0, CancellationToken ct = default);
}
