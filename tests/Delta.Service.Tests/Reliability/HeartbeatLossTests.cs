using System.Diagnostics;
using Delta.Service.Jobs;
using Delta.Service.Store;
using Delta.Service.Tests.Support;

namespace Delta.Service.Tests.Reliability;

/// <summary>A host whose heartbeats stop getting through stops its job once its lease can have run out.</summary>
public sealed class HeartbeatLossTests : IDisposable
{
    private readonly TempDir dir = new();

    public void Dispose() => dir.Dispose();

    /// <summary>Before, failed heartbeats were logged and retried forever while the job trained on: once the lease
    /// expired another host could requeue and run it, and two hosts trained one job.</summary>
    [Fact]
    public async Task Heartbeats_failing_for_a_whole_lease_stop_the_job_without_writing_its_end()
    {
        var options = InProcessService.FastOptions(dir.Path);          // lease 3 s, heartbeat every 0.2 s
        var store = new UnreachableHeartbeatStore(new SqliteJobStore(Path.Combine(dir.Path, "jobs.db")));
        var executor = new WatchedExecutor();
        await using var svc = await InProcessService.StartAsync(options, executor, store);
        await ApiCalls.Submit(svc.Http, ApiCalls.Job("orphan"));
        await executor.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        store.Unreachable = true;
        await executor.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(20));
        // Not before the lease, counted from the last heartbeat that got through (the worker took its time just before
        // that call; 50 ms for the two clocks' reads), can have run out. The upper side is generous: the heartbeat loop
        // runs on the thread pool, which the test run's other classes can starve for seconds on 2 cores; what matters
        // is that the job stops (the old code never did).
        var leaseHeldFor = Stopwatch.GetElapsedTime(store.LeaseRenewedAt, executor.CancelledAt);
        Assert.InRange(leaseHeldFor, options.Lease - TimeSpan.FromMilliseconds(50), options.Lease + options.Heartbeat + TimeSpan.FromSeconds(8));
        await Task.Delay(options.Heartbeat * 3);                       // the worker's own bookkeeping after the cancel
        Assert.Equal(0, store.Endings);                                 // abandoned: the next holder of the lease owns its end
    }

    /// <summary>Runs until cancelled, saying when it started and when the cancel came.</summary>
    private sealed class WatchedExecutor : IJobExecutor
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long CancelledAt { get; private set; }

        public async Task<JobExecutionResult> ExecuteAsync(JobExecution execution, CancellationToken ct)
        {
            Started.TrySetResult();
            try { await Task.Delay(Timeout.Infinite, ct); }
            finally { CancelledAt = Stopwatch.GetTimestamp(); Cancelled.TrySetResult(); }
            throw new UnreachableException();
        }
    }
}
