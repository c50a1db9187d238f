using Delta.Service.Jobs;
using Delta.Service.Store;
using Delta.Service.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Delta.Service.Tests.Store;

public sealed class SqliteJobStoreTests : IDisposable
{
    private readonly TempDir dir = new();
    private readonly ManualClock clock = new();
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);

    private async Task<SqliteJobStore> Store()
    {
        var s = new SqliteJobStore(Path.Combine(dir.Path, "jobs.db"), clock);
        await s.InitializeAsync();
        return s;
    }

    private static JobSubmission Sub(string name, string? key = null) => new(name, "cpu", $$"""{"name":"{{name}}"}""", key);

    [Fact]
    public async Task Progress_batches_record_every_point_and_a_resumed_attempt_replaces_the_steps_it_repeats() =>
        await StoreScenarios.Progress_batches_record_every_point_and_a_resumed_attempt_replaces_the_steps_it_repeats(await Store());

    [Fact]
    public async Task Reports_of_one_step_are_one_point() => await StoreScenarios.Reports_of_one_step_are_one_point(await Store());

    [Fact]
    public async Task A_thinned_history_keeps_every_epoch_end() => await StoreScenarios.A_thinned_history_keeps_every_epoch_end(await Store());

    /// <summary>An outcome with a NaN metric (a DeepLab mIoU without labelled validation pixels) is recorded; before,
    /// serializing it threw, the job stayed running and was retried until it was given up.</summary>
    [Fact]
    public async Task An_outcome_with_non_finite_metrics_is_recorded_and_read_back()
    {
        var s = await Store();
        var (job, _) = await s.SubmitAsync(Sub("nan"));
        await s.ClaimNextAsync("cpu", "h1", Lease);
        Assert.True(await s.CompleteAsync(job.Id, "h1", new JobOutcome(JobState.Succeeded, null,
            new Dictionary<string, double> { ["mIoU"] = double.NaN, ["loss"] = double.PositiveInfinity, ["acc"] = 0.5 }, [])));
        var done = (await s.GetAsync(job.Id))!;
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.True(double.IsNaN(done.Metrics["mIoU"]));
        Assert.Equal(double.PositiveInfinity, done.Metrics["loss"]);
        Assert.Contains("\"NaN\"", System.Text.Json.JsonSerializer.Serialize(done, Delta.Service.Api.ServiceJson.Options));   // and the API can send it
    }

    [Fact]
    public async Task Lifecycle_queued_running_succeeded_keeps_metrics_artifacts_and_history()
    {
        var s = await Store();
        var (job, created) = await s.SubmitAsync(Sub("a"));
        Assert.True(created);
        Assert.Equal(JobState.Queued, job.State);
        Assert.Null(await s.ClaimNextAsync("cuda:0", "h1", Lease)); // other device: nothing to claim
        var claimed = await s.ClaimNextAsync("cpu", "h1", Lease);
        Assert.Equal((job.Id, JobState.Running, "h1", 1), (claimed!.Id, claimed.State, claimed.Owner, claimed.Attempts));
        Assert.Equal(clock.Now + Lease, claimed.LeaseExpires);
        Assert.True(await s.UpdateProgressAsync(job.Id, "h1", [new JobProgress { Step = 3, TotalSteps = 10, Metrics = new Dictionary<string, double> { ["loss"] = 0.5 } }]));
        Assert.True(await s.UpdateProgressAsync(job.Id, "h1", [new JobProgress { Step = 6, TotalSteps = 10, Metrics = new Dictionary<string, double> { ["loss"] = 0.25 } }]));
        await s.AppendLogAsync(job.Id, "hello");
        Assert.True(await s.CompleteAsync(job.Id, "h1", new JobOutcome(JobState.Succeeded, null, new Dictionary<string, double> { ["acc"] = 0.9 }, ["/x/patch.dpatch"])));
        var done = (await s.GetAsync(job.Id))!;
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Null(done.Owner);
        Assert.Equal(0.9, done.Metrics["acc"]);
        Assert.Equal(["/x/patch.dpatch"], done.Artifacts);
        Assert.Equal(6, done.Progress!.Step);
        Assert.Equal([3L, 6L], (await s.GetMetricHistoryAsync(job.Id)).Select(p => p.Step));
        Assert.Equal(["hello"], (await s.GetLogsAsync(job.Id)).Select(l => l.Text));
        Assert.Null(await s.ClaimNextAsync("cpu", "h1", Lease));
    }

    [Fact]
    public async Task An_idempotency_key_names_one_submission() =>
        await StoreScenarios.An_idempotency_key_names_one_submission([await Store(), await Store(), await Store()]);

    [Fact]
    public async Task A_host_that_lost_its_lease_can_no_longer_write_and_the_job_is_requeued_and_resumed_elsewhere()
    {
        var s = await Store();
        var (job, _) = await s.SubmitAsync(Sub("a"));
        await s.ClaimNextAsync("cpu", "h1", Lease);
        clock.Now += TimeSpan.FromSeconds(5);
        Assert.False(await s.HeartbeatAsync(job.Id, "h1", Lease)); // held, not cancelled
        clock.Now += TimeSpan.FromSeconds(9);
        Assert.Equal(0, await s.RequeueStaleAsync(null)); // lease (extended at t=5) runs to t=15
        clock.Now += TimeSpan.FromSeconds(2);
        Assert.Equal(1, await s.RequeueStaleAsync(null));
        var again = await s.ClaimNextAsync("cpu", "h2", Lease);
        Assert.Equal(("h2", 2), (again!.Owner, again.Attempts));
        Assert.Null(await s.HeartbeatAsync(job.Id, "h1", Lease));
        Assert.False(await s.UpdateProgressAsync(job.Id, "h1", [new JobProgress { Step = 1 }]));
        Assert.False(await s.CompleteAsync(job.Id, "h1", JobOutcome.Failed("late")));
        Assert.True(await s.CompleteAsync(job.Id, "h2", new JobOutcome(JobState.Succeeded, null, new Dictionary<string, double>(), [])));
        Assert.Contains((await s.GetLogsAsync(job.Id)), l => l.Text.Contains("requeued"));
    }

    [Fact]
    public async Task Restarted_host_requeues_its_own_running_job_at_once()
    {
        var s = await Store();
        var (job, _) = await s.SubmitAsync(Sub("a"));
        await s.ClaimNextAsync("cpu", "h1", Lease);
        Assert.Equal(0, await s.RequeueStaleAsync("h2"));
        Assert.Equal(1, await s.RequeueStaleAsync("h1"));
        Assert.Equal(JobState.Queued, (await s.GetAsync(job.Id))!.State);
    }

    [Fact]
    public async Task Cancel_of_a_queued_job_is_immediate_and_of_a_running_one_is_a_flag_seen_by_the_heartbeat()
    {
        var s = await Store();
        var (q, _) = await s.SubmitAsync(Sub("q"));
        var (r, _) = await s.SubmitAsync(Sub("r"));
        await s.ClaimNextAsync("cpu", "h1", Lease); // takes q (oldest)
        Assert.Equal(JobState.Cancelled, (await s.RequestCancelAsync(r.Id))!.State);
        var running = (await s.RequestCancelAsync(q.Id))!;
        Assert.Equal((JobState.Running, true), (running.State, running.CancelRequested));
        Assert.True(await s.HeartbeatAsync(q.Id, "h1", Lease));
        Assert.Null(await s.RequestCancelAsync("nope"));
    }

    [Fact]
    public async Task A_cancel_requested_while_running_survives_the_host_letting_go() =>
        await StoreScenarios.A_cancel_requested_while_running_survives_the_host_letting_go(await Store(), async id =>
        {
            await using var c = new SqliteConnection($"Data Source={Path.Combine(dir.Path, "jobs.db")}");
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = $"UPDATE jobs SET cancel_requested = 1 WHERE id = '{id}'";
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        });

    [Fact]
    public async Task A_name_belongs_to_one_job_that_has_not_ended()
    {
        var s = await Store();
        await StoreScenarios.A_name_belongs_to_one_job_that_has_not_ended([s, await Store(), await Store()]);
    }

    /// <summary>A queue file an older build wrote: no <c>released</c> column, and two unended jobs with one name.</summary>
    [Fact]
    public async Task A_queue_from_an_older_build_is_migrated_and_keeps_its_jobs()
    {
        var path = Path.Combine(dir.Path, "old.db");
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = OldQueue.SqliteTable + OldQueue.Rows;
            cmd.ExecuteNonQuery();
        }
        await OldQueue.Opened_by_this_build_keeps_its_jobs_and_runs_them(new SqliteJobStore(path));
    }

    [Fact]
    public async Task Concurrent_claimers_never_get_the_same_job()
    {
        var s = await Store();
        for (var i = 0; i < 40; i++) await s.SubmitAsync(Sub($"j{i}"));
        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(h => Task.Run(async () =>
        {
            var mine = new List<string>();
            while (await s.ClaimNextAsync("cpu", $"h{h}", Lease) is { } j) mine.Add(j.Id);
            return mine;
        })));
        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(40, all.Count);
        Assert.Equal(40, all.Distinct().Count());
    }

    [Fact]
    public async Task Completing_with_a_non_terminal_state_is_refused()
    {
        var s = await Store();
        var (job, _) = await s.SubmitAsync(Sub("a"));
        await Assert.ThrowsAsync<ArgumentException>(() => s.CompleteAsync(job.Id, "h1", new JobOutcome(JobState.Running, null, new Dictionary<string, double>(), [])));
    }

    [Fact]
    public async Task Database_uses_wal_and_passes_integrity_check()
    {
        var s = await Store();
        await s.SubmitAsync(Sub("a"));
        using var c = new SqliteConnection($"Data Source={Path.Combine(dir.Path, "jobs.db")};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", cmd.ExecuteScalar());
        cmd.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", cmd.ExecuteScalar());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        dir.Dispose();
    }
}
