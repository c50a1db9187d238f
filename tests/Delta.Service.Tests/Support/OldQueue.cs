using Delta.Service.Jobs;
using Delta.Service.Store;

namespace Delta.Service.Tests.Support;

/// <summary>
/// A queue as builds before the <c>released</c> column wrote it, when nothing kept names of unended jobs apart either: a
/// row in each state, one queued row flagged for cancellation, and two unended rows ("twin", running and queued) that
/// share a name. <see cref="Opened_by_this_build_keeps_its_jobs_and_runs_them"/> checks what this build makes of it.
/// </summary>
public static class OldQueue
{
    public const string SqliteTable = """
        CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, device TEXT NOT NULL,
          spec TEXT NOT NULL, state TEXT NOT NULL, idempotency_key TEXT UNIQUE, owner TEXT, lease_expires INTEGER,
          attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0, error TEXT,
          progress TEXT, metrics TEXT, artifacts TEXT, created INTEGER NOT NULL, started INTEGER, finished INTEGER);
        """;

    public const string PostgresTable = """
        CREATE TABLE jobs (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, device TEXT NOT NULL,
          spec TEXT NOT NULL, state TEXT NOT NULL, idempotency_key TEXT UNIQUE, owner TEXT, lease_expires BIGINT,
          attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0, error TEXT,
          progress TEXT, metrics TEXT, artifacts TEXT, created BIGINT NOT NULL, started BIGINT, finished BIGINT);
        """;

    /// <summary>Runs after either table; the running row's lease ran out long ago (its host died).</summary>
    public const string Rows = """
        INSERT INTO jobs (id, name, device, spec, state, attempts, created) VALUES ('old-queued', 'old', 'cpu', '{}', 'queued', 2, 0);
        INSERT INTO jobs (id, name, device, spec, state, cancel_requested, created) VALUES ('old-flagged', 'flagged', 'cpu', '{}', 'queued', 1, 0);
        INSERT INTO jobs (id, name, device, spec, state, owner, lease_expires, attempts, created, started) VALUES ('old-twin-1', 'twin', 'cpu', '{}', 'running', 'dead-host', 1, 1, 0, 1);
        INSERT INTO jobs (id, name, device, spec, state, created) VALUES ('old-twin-2', 'twin', 'cpu', '{}', 'queued', 0);
        INSERT INTO jobs (id, name, device, spec, state, attempts, metrics, artifacts, created, started, finished) VALUES ('old-done', 'done', 'cpu', '{}', 'succeeded', 1, '{"acc":0.5}', '["/p/done.dpatch"]', 0, 1, 2);
        INSERT INTO jobs (id, name, device, spec, state, attempts, error, created, started, finished) VALUES ('old-failed', 'failed', 'cpu', '{}', 'failed', 1, 'boom', 0, 1, 2);
        """;

    /// <summary>
    /// Opening the queue (twice: the second start has nothing to add) keeps every row, gives each a <c>released</c> count
    /// of 0, ends the flagged queued row, and does not fail on the twins: both hold their name until both have ended
    /// (the older is named), while ended jobs' names are free at once. Claims, graceful releases and outcomes work on the
    /// old rows.
    /// </summary>
    public static async Task Opened_by_this_build_keeps_its_jobs_and_runs_them(IJobStore s)
    {
        var lease = TimeSpan.FromSeconds(30);
        await s.InitializeAsync();
        await s.InitializeAsync();
        var jobs = (await s.ListAsync()).ToDictionary(j => j.Id);
        Assert.Equal(["old-done", "old-failed", "old-flagged", "old-queued", "old-twin-1", "old-twin-2"], jobs.Keys.Order());
        Assert.All(jobs.Values, j => Assert.Equal(0, j.GracefulReleases));
        Assert.Equal((JobState.Queued, 2), (jobs["old-queued"].State, jobs["old-queued"].Attempts));
        Assert.Equal((JobState.Cancelled, "cancelled by request"), (jobs["old-flagged"].State, jobs["old-flagged"].Error));
        Assert.Equal((JobState.Running, "dead-host"), (jobs["old-twin-1"].State, jobs["old-twin-1"].Owner));
        Assert.Equal((JobState.Succeeded, 0.5, "/p/done.dpatch"), (jobs["old-done"].State, jobs["old-done"].Metrics["acc"], jobs["old-done"].Artifacts.Single()));
        Assert.Equal((JobState.Failed, "boom"), (jobs["old-failed"].State, jobs["old-failed"].Error));

        async Task<string> Holder(string name) =>
            (await Assert.ThrowsAsync<JobNameTakenException>(() => s.SubmitAsync(new JobSubmission(name, "cuda:0", "{}")))).HolderId;
        Assert.Equal("old-twin-1", await Holder("twin"));
        Assert.Equal("old-queued", await Holder("old"));
        foreach (var ended in new[] { "done", "failed", "flagged" })
            Assert.True((await s.SubmitAsync(new JobSubmission(ended, "cuda:0", "{}"))).Created);   // another device: the claims below do not see them

        Assert.Equal(1, await s.RequeueStaleAsync(null));                                 // the dead host's twin
        foreach (var id in new[] { "old-queued", "old-twin-1" })
        {
            Assert.Equal(id, (await s.ClaimNextAsync("cpu", "h1", lease))!.Id);
            Assert.True(await s.CompleteAsync(id, "h1", new JobOutcome(JobState.Succeeded, null, new Dictionary<string, double>(), [])));
        }
        Assert.Equal(2, (await s.GetAsync("old-twin-1"))!.Attempts);
        Assert.Equal("old-twin-2", await Holder("twin"));                                 // the other twin still holds it
        Assert.Equal("old-twin-2", (await s.ClaimNextAsync("cpu", "h1", lease))!.Id);
        Assert.True(await s.ReleaseAsync("old-twin-2", "h1"));
        Assert.Equal(1, (await s.GetAsync("old-twin-2"))!.GracefulReleases);
        Assert.Equal("old-twin-2", (await s.ClaimNextAsync("cpu", "h1", lease))!.Id);
        Assert.True(await s.CompleteAsync("old-twin-2", "h1", JobOutcome.Failed("boom")));
        Assert.True((await s.SubmitAsync(new JobSubmission("twin", "cpu", "{}"))).Created);
        Assert.Equal(10, (await s.ListAsync()).Count);
    }
}
