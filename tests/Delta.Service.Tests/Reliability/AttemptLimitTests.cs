using Delta.Service.Jobs;
using Delta.Service.Store;
using Delta.Service.Tests.Support;

namespace Delta.Service.Tests.Reliability;

/// <summary>A job that never reaches an outcome is not run forever.</summary>
public sealed class AttemptLimitTests : IDisposable
{
    private readonly TempDir dir = new();
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public void Dispose() => dir.Dispose();

    /// <summary>A queued job in the service's store, taken through <paramref name="endings"/> attempts before the service
    /// starts: each claimed, then ended by <c>graceful</c> (a release, as a stopping host does) or by a crash (the
    /// host's restart requeues it).</summary>
    private async Task<JobRecord> JobWithEarlierAttempts(string name, params bool[] endings)
    {
        var store = new SqliteJobStore(Path.Combine(dir.Path, "jobs.db"));
        await store.InitializeAsync();
        var (job, _) = await store.SubmitAsync(new JobSubmission(name, "cpu", ApiCalls.Job(name)));
        foreach (var graceful in endings)
        {
            Assert.NotNull(await store.ClaimNextAsync("cpu", "earlier-host", TimeSpan.FromSeconds(30)));
            if (graceful) Assert.True(await store.ReleaseAsync(job.Id, "earlier-host"));
            else Assert.Equal(1, await store.RequeueStaleAsync("earlier-host"));
        }
        return (await store.GetAsync(job.Id))!;
    }

    private async Task<(JobRecord Done, int Calls)> RunWithMaxAttempts3(string jobId, string what)
    {
        var options = InProcessService.FastOptions(dir.Path);
        options.MaxAttempts = 3;
        var executor = new CountingExecutor();
        await using var svc = await InProcessService.StartAsync(options, executor);
        var done = await ApiCalls.WaitFor(svc.Http, jobId, j => j.State.IsTerminal(), Timeout, what);
        Assert.Equal(done.State == JobState.Failed, (await ApiCalls.Logs(svc.Http, jobId)).Contains("failed: gave up after 3 attempts"));
        return (done, executor.Calls);
    }

    /// <summary>A job that took its host down three times (here: claimed by a host that then "died", three times) is
    /// failed at its fourth claim without running; before, every restart ran it again.</summary>
    [Fact]
    public async Task A_job_claimed_MaxAttempts_times_without_an_outcome_fails_at_the_next_claim_without_running()
    {
        var job = await JobWithEarlierAttempts("crasher", false, false, false);
        var (done, calls) = await RunWithMaxAttempts3(job.Id, "given up");
        Assert.Equal((JobState.Failed, 4), (done.State, done.Attempts));
        Assert.StartsWith("gave up after 3 attempts", done.Error);
        Assert.Equal(0, calls);
    }

    /// <summary>Graceful stops (a service restarted while the job ran: checkpointed, requeued) are not failures: a job
    /// stopped that way more often than MaxAttempts still runs, and crashes after them still count from zero.</summary>
    [Fact]
    public async Task Graceful_stops_do_not_use_up_the_attempts()
    {
        var job = await JobWithEarlierAttempts("restarted", true, true, true, true, false);   // 4 restarts of the service, 1 crash
        Assert.Equal((5, 4), (job.Attempts, job.GracefulReleases));
        var (done, calls) = await RunWithMaxAttempts3(job.Id, "finished");
        Assert.Equal((JobState.Succeeded, 6), (done.State, done.Attempts));
        Assert.Equal(1, calls);
    }

    /// <summary>The job's folder could not be made (here a file stands where the folder "jobs" goes): the job fails with
    /// the reason. Before, the exception escaped the job, which stayed running until its lease ran out and came back.</summary>
    [Fact]
    public async Task A_job_whose_folder_cannot_be_made_fails_with_the_reason()
    {
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "jobs"), "not a folder");
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path));
        var job = await ApiCalls.Submit(svc.Http, ApiCalls.Job("homeless"));
        var done = await ApiCalls.WaitFor(svc.Http, job.Id, j => j.State.IsTerminal(), Timeout, "failed");
        Assert.Equal((JobState.Failed, 1), (done.State, done.Attempts));
        Assert.Contains(Path.Combine(dir.Path, "jobs", job.Id), done.Error);   // DirectoryNotFoundException (ENOTDIR) on Linux
    }

    [Fact]
    public void MaxAttempts_below_one_is_refused_at_start() =>
        Assert.Contains("Service:MaxAttempts (0) must be at least 1.", new ServiceOptions { MaxAttempts = 0 }.Validate());

    private sealed class CountingExecutor : IJobExecutor
    {
        private int calls;
        public int Calls => calls;
        public Task<JobExecutionResult> ExecuteAsync(JobExecution execution, CancellationToken ct)
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(new JobExecutionResult(new Dictionary<string, double>(), []));
        }
    }
}
