using System.Diagnostics;
using Delta.Abstractions.Plugins;
using Delta.Service.Api;
using Delta.Service.Jobs;
using Delta.Service.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Delta.Service.Worker;

/// <summary>
/// Takes jobs from the store and runs them through <see cref="IJobExecutor"/>, one at a time per device.
/// Invariants: a job this host runs is heartbeated (its lease extended) until it ends; a job whose lease
/// this host lost is abandoned without writing anything; a job interrupted by shutdown is checkpointed by
/// the executor and put back in the queue; every other exception fails only that job, never the service.
/// </summary>
public sealed class JobWorkerService(IJobStore store, IJobExecutor executor, ServiceOptions options,
    IHostApplicationLifetime lifetime, ILogger<JobWorkerService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken hostedServiceStopping)
    {
        // The host stops its hosted services one after another, the web server before this one, and the web
        // server first drains open requests (an artifact download, say), which would leave the job training
        // on meanwhile and eat into the shutdown timeout it needs for its checkpoint. ApplicationStopping
        // fires before any of them stops, so a running job checkpoints at once.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(hostedServiceStopping, lifetime.ApplicationStopping);
        var stoppingToken = stopping.Token;
        // After kill -9 this host's jobs are still "running" under its id: take them back now instead of
        // waiting for their leases to run out.
        var requeued = await Retry(() => store.RequeueStaleAsync(options.HostId, stoppingToken), stoppingToken);
        if (requeued > 0) log.LogWarning("Requeued {Count} job(s) left running by an earlier run of host {Host}", requeued, options.HostId);
        if (options.Devices.Count > 1)
            log.LogInformation("Jobs on {Devices} run concurrently in this process. The built-in plugins seed and build under " +
                "DefaultGenerator's lock and draw from generators of their own while training, so their same-seed results repeat; " +
                "a plugin that draws from libtorch's default generators otherwise may not (run one device per host process for it)",
                string.Join(", ", options.Devices));
        await Task.WhenAll(options.Devices.Select(d => Task.Run(() => DeviceLoop(d, stoppingToken), CancellationToken.None)));
    }

    private async Task DeviceLoop(string device, CancellationToken stoppingToken)
    {
        log.LogInformation("Worker for device {Device} on host {Host} started", device, options.HostId);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Any host requeues expired leases, so a dead host's job is taken over by a live one.
                var stale = await store.RequeueStaleAsync(null, stoppingToken);
                if (stale > 0) log.LogWarning("Requeued {Count} job(s) whose lease expired", stale);
                var claimedAt = Stopwatch.GetTimestamp();     // the lease runs from no earlier than this
                var job = await store.ClaimNextAsync(device, options.HostId, options.Lease, stoppingToken);
                if (job is null) { await Task.Delay(options.Poll, stoppingToken); continue; }
                // This claim is attempt job.Attempts; the earlier ones that ended gracefully (a service restart) are no failures.
                if (job.Attempts - job.GracefulReleases > options.MaxAttempts) { await GiveUpAsync(job); continue; }
                await RunAsync(job, claimedAt, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                // The store was unreachable or similar: keep serving, try again shortly.
                log.LogError(e, "Worker loop error on device {Device}; retrying", device);
                try { await Task.Delay(options.Poll, stoppingToken); } catch (OperationCanceledException) { break; }
            }
        }
        log.LogInformation("Worker for device {Device} stopped", device);
    }

    /// <summary>
    /// A job whose earlier attempts ended <see cref="ServiceOptions.MaxAttempts"/> times without an outcome and without
    /// a graceful stop: the process died under it (a native crash, the OOM killer) or it lost its lease. Running it
    /// again could take the host down or hold the device forever; it fails instead, before any of its code runs.
    /// </summary>
    private async Task GiveUpAsync(JobRecord job)
    {
        var error = $"gave up after {options.MaxAttempts} attempts (Service:MaxAttempts) that ended without an outcome (a crash or a lost lease)";
        log.LogError("Job {Id} ({Name}): {Error}", job.Id, job.Name, error);
        await store.AppendLogAsync(job.Id, $"failed: {error}", CancellationToken.None);
        await store.CompleteAsync(job.Id, options.HostId, JobOutcome.Failed(error), CancellationToken.None);
    }

    private async Task RunAsync(JobRecord job, long claimedAt, CancellationToken stoppingToken)
    {
        var resume = job.Attempts > 1;
        log.LogInformation("Running job {Id} ({Name}) attempt {Attempt}{Resume}", job.Id, job.Name, job.Attempts, resume ? ", resuming" : "");
        var workDir = Path.Combine(Path.GetFullPath(options.StateDir), "jobs", job.Id);
        var checkpointDir = Path.Combine(workDir, "checkpoints");

        using var jobCts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var userCancelled = false;
        var leaseLost = false;
        await using var sink = new JobEventSink(store, job.Id, options.HostId, log);
        sink.Log(resume ? $"attempt {job.Attempts} on {options.HostId}: resuming from the last checkpoint" : $"started on {options.HostId}");

        using var heartbeatStop = new CancellationTokenSource();
        var heartbeat = Task.Run(async () =>
        {
            // When the last heartbeat that got through was sent: the lease is held for options.Lease from then, and no
            // longer. Once that has passed without another, any host may have requeued the job and another may run it.
            var leaseFrom = claimedAt;
            while (!heartbeatStop.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(options.Heartbeat, heartbeatStop.Token);
                    var sentAt = Stopwatch.GetTimestamp();
                    // A call that hangs past the lease (an unreachable database) ends when the lease does.
                    using var call = CancellationTokenSource.CreateLinkedTokenSource(heartbeatStop.Token);
                    var leaseLeft = options.Lease - Stopwatch.GetElapsedTime(leaseFrom);
                    call.CancelAfter(leaseLeft > TimeSpan.Zero ? leaseLeft : TimeSpan.Zero);
                    var r = await store.HeartbeatAsync(job.Id, options.HostId, options.Lease, call.Token);
                    if (r is null) { leaseLost = true; await jobCts.CancelAsync(); return; }
                    leaseFrom = sentAt;
                    if (r == true && !userCancelled) { userCancelled = true; await jobCts.CancelAsync(); }
                }
                catch (OperationCanceledException) when (heartbeatStop.IsCancellationRequested) { return; }
                // A cancellation that is not the stop's can only be the call cut off at the lease's end (CancelAfter rounds
                // to whole milliseconds on a coarser clock, so the elapsed time may read a hair short of the lease).
                catch (Exception e) when (e is OperationCanceledException || Stopwatch.GetElapsedTime(leaseFrom) >= options.Lease)
                {
                    // Same as a lease the store says is gone: stop training rather than race the host that may take over.
                    log.LogError(e, "Heartbeats for job {Id} failed for a whole lease ({Lease}); treating the lease as lost", job.Id, options.Lease);
                    leaseLost = true;
                    await jobCts.CancelAsync();
                    return;
                }
                catch (Exception e) { log.LogWarning(e, "Heartbeat for job {Id} failed; retrying until the lease runs out", job.Id); }
            }
        });

        JobOutcome? outcome = null;
        try
        {
            // Inside the try: a folder that cannot be made (disk full, permissions) fails this job. Outside it, the
            // exception left the job running under this host until its lease ran out, and then it came back.
            Directory.CreateDirectory(checkpointDir);
            // Training is CPU-bound, synchronous and runs for minutes to days: it gets a thread of its own. On a
            // pool thread it would hold one of the few (as many as cores) the API, the heartbeat and the event
            // pump share, and requests waited for the pool to grow (measured: 0.5-1 s per request on 2 cores).
            var result = await Task.Factory.StartNew(() => executor.ExecuteAsync(
                    new JobExecution(job, workDir, checkpointDir, resume, sink, sink.Log), jobCts.Token),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            outcome = new JobOutcome(JobState.Succeeded, null, result.Metrics, result.Artifacts);
        }
        catch (OperationCanceledException) when (jobCts.IsCancellationRequested)
        {
            if (userCancelled) outcome = JobOutcome.Cancelled();
            else if (leaseLost) log.LogWarning("Job {Id}: lease lost (taken over, or no heartbeat got through for a whole lease); abandoned", job.Id);
            else log.LogInformation("Job {Id}: host stopping; checkpointed, back in the queue", job.Id);
        }
        catch (Exception e)
        {
            // NaN loss (NonFiniteLossException), out of memory, plugin bugs: the job fails, the service goes on.
            log.LogError(e, "Job {Id} failed", job.Id);
            outcome = JobOutcome.Failed($"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            await heartbeat;
        }

        await sink.FlushAsync();
        if (leaseLost) return;
        if (outcome is null)
        {
            await store.ReleaseAsync(job.Id, options.HostId, CancellationToken.None);
            // Said after the release, from what it did: a cancel requested in the meantime ends the job instead.
            var released = await store.GetAsync(job.Id, CancellationToken.None);
            sink.Log(released?.State == JobState.Cancelled
                ? $"host {options.HostId} shutting down: the job's cancel had been requested, so it ends cancelled instead of going back to the queue"
                : $"host {options.HostId} shutting down: requeued; resumes from the last checkpoint");
            await sink.FlushAsync();
            return;
        }
        sink.Log(outcome.State == JobState.Failed ? $"failed: {outcome.Error}" : outcome.State.ToDb());
        await sink.FlushAsync();
        if (!await store.CompleteAsync(job.Id, options.HostId, outcome, CancellationToken.None))
        {
            log.LogWarning("Job {Id}: outcome {State} not recorded, the lease had passed to another host", job.Id, outcome.State);
            return;
        }
        if (outcome.State == JobState.Succeeded) DeleteCheckpoints(job.Id, checkpointDir, outcome.Artifacts);
    }

    /// <summary>
    /// A succeeded job never runs again, so its checkpoints (a detector's are hundreds of MB) are of no more use; before,
    /// every job left its folder behind for good. Deleted only once the outcome is committed: a host that dies before
    /// that leaves the job running, and the attempt that takes it over resumes from them. A failed or cancelled job keeps
    /// its own: what the run had reached is what its diagnosis (or a resume by hand) starts from, and the operator
    /// removes them (<c>jobs/&lt;id&gt;/checkpoints</c> in the state folder). Only the job's checkpoint folder goes, never
    /// when an artifact lies inside it, and a failure to delete is logged: the job has succeeded all the same.
    /// </summary>
    private void DeleteCheckpoints(string jobId, string checkpointDir, IReadOnlyList<string> artifacts)
    {
        // All of it inside the try, the artifact check too (a path that path functions refuse throws there): the job has
        // succeeded, and nothing here may reach the device loop as an error.
        try
        {
            if (artifacts.Any(a => ArtifactPaths.IsInside(a, [checkpointDir])))
            {
                log.LogWarning("Job {Id}: an artifact lies in its checkpoint folder {Dir}; the folder is kept", jobId, checkpointDir);
                return;
            }
            if (Directory.Exists(checkpointDir)) Directory.Delete(checkpointDir, recursive: true);
        }
        catch (Exception e) { log.LogWarning(e, "Job {Id}: its checkpoint folder {Dir} could not be deleted; it stays", jobId, checkpointDir); }
    }

    private static async Task<T> Retry<T>(Func<Task<T>> f, CancellationToken ct)
    {
        for (var i = 0; ; i++)
        {
            try { return await f(); }
            catch (Exception) when (i < 10 && !ct.IsCancellationRequested) { await Task.Delay(500, ct); }
        }
    }
}
