using Delta.Service.Jobs;
using Delta.Service.Store;
using Delta.Service.Tests.Support;

namespace Delta.Service.Tests.Reliability;

/// <summary>PostgreSQL store and two real host processes sharing one queue.</summary>
public sealed class PostgresQueueTests : IDisposable
{
    private readonly TempDir dir = new();
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [PostgresFact]
    public async Task Concurrent_claims_from_separate_stores_skip_locked_rows_and_never_duplicate()
    {
        using var schema = new PgSchema();
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresJobStore(schema.ConnectionString)).ToList();
        await Task.WhenAll(stores.Select(s => s.InitializeAsync())); // concurrent schema creation must not fail
        for (var i = 0; i < 60; i++) await stores[0].SubmitAsync(new JobSubmission($"j{i}", "cpu", "{}"));
        var claims = await Task.WhenAll(stores.Select((s, h) => Task.Run(async () =>
        {
            var mine = new List<string>();
            while (await s.ClaimNextAsync("cpu", $"h{h}", TimeSpan.FromSeconds(30)) is { } j) mine.Add(j.Id);
            return mine;
        })));
        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(60, all.Count);
        Assert.Equal(60, all.Distinct().Count());
        var (a, created) = await stores[1].SubmitAsync(new JobSubmission("k", "cpu", "{}", "same-key"));
        var (b, again) = await stores[2].SubmitAsync(new JobSubmission("k", "cpu", "{}", "same-key"));
        Assert.Equal((true, false, a.Id), (created, again, b.Id));
        foreach (var s in stores) await s.DisposeAsync();
    }

    [PostgresFact]
    public async Task Progress_batches_record_every_point_and_a_resumed_attempt_replaces_the_steps_it_repeats() => await OnOneStore(StoreScenarios.Progress_batches_record_every_point_and_a_resumed_attempt_replaces_the_steps_it_repeats);

    [PostgresFact]
    public async Task Reports_of_one_step_are_one_point() => await OnOneStore(StoreScenarios.Reports_of_one_step_are_one_point);

    [PostgresFact]
    public async Task A_thinned_history_keeps_every_epoch_end() => await OnOneStore(StoreScenarios.A_thinned_history_keeps_every_epoch_end);

    [PostgresFact]
    public async Task A_cancel_requested_while_running_survives_the_host_letting_go()
    {
        using var schema = new PgSchema();
        await using var store = new PostgresJobStore(schema.ConnectionString);
        await store.InitializeAsync();
        await StoreScenarios.A_cancel_requested_while_running_survives_the_host_letting_go(store, async id =>
        {
            await using var c = new Npgsql.NpgsqlConnection(schema.ConnectionString);
            await c.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand($"UPDATE jobs SET cancel_requested = 1 WHERE id = '{id}'", c);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        });
    }

    [PostgresFact]
    public async Task An_idempotency_key_names_one_submission() => await OnFourStores(StoreScenarios.An_idempotency_key_names_one_submission);

    [PostgresFact]
    public async Task A_name_belongs_to_one_job_that_has_not_ended() => await OnFourStores(StoreScenarios.A_name_belongs_to_one_job_that_has_not_ended);

    /// <summary>Runs a scenario on one store over a fresh queue.</summary>
    private static async Task OnOneStore(Func<IJobStore, Task> scenario)
    {
        using var schema = new PgSchema();
        await using var store = new PostgresJobStore(schema.ConnectionString);
        await store.InitializeAsync();
        await scenario(store);
    }

    /// <summary>Runs a scenario on four stores (separate connection pools) over one fresh queue.</summary>
    private static async Task OnFourStores(Func<IReadOnlyList<IJobStore>, Task> scenario)
    {
        using var schema = new PgSchema();
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresJobStore(schema.ConnectionString)).ToList();
        await stores[0].InitializeAsync();
        await scenario(stores);
        foreach (var s in stores) await s.DisposeAsync();
    }

    /// <summary>A queue table an older build made (no <c>released</c> column, two unended jobs with one name). A current
    /// queue table sits in the next schema on the search path: the column check must look at the table the store uses
    /// (the current schema's), not at any table of that name in the database.</summary>
    [PostgresFact]
    public async Task A_queue_from_an_older_build_is_migrated_and_keeps_its_jobs()
    {
        using var old = new PgSchema();
        using var newer = new PgSchema();
        await using (var current = new PostgresJobStore(newer.ConnectionString)) await current.InitializeAsync();
        await using (var c = new Npgsql.NpgsqlConnection(old.ConnectionString))
        {
            await c.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand(OldQueue.PostgresTable + OldQueue.Rows, c);
            await cmd.ExecuteNonQueryAsync();
        }
        var bothSchemas = new Npgsql.NpgsqlConnectionStringBuilder(old.ConnectionString) { SearchPath = $"{old.Name},{newer.Name}" };
        await using var store = new PostgresJobStore(bothSchemas.ToString());
        await OldQueue.Opened_by_this_build_keeps_its_jobs_and_runs_them(store);
    }

    [PostgresFact]
    [Trait("Category", "Slow")]
    public async Task Two_hosts_on_one_queue_never_run_a_job_twice_and_a_killed_hosts_job_is_taken_over()
    {
        using var schema = new PgSchema();
        string[] pg = ["--Service:Store=postgres", $"--Service:ConnectionString={schema.ConnectionString}"];
        using var hostA = await ServiceProcess.StartAsync(dir.Path, "host-a", pg);
        using var hostB = await ServiceProcess.StartAsync(dir.Path, "host-b", pg);

        var ids = new List<string>();
        for (var i = 0; i < 16; i++) ids.Add((await ApiCalls.Submit(i % 2 == 0 ? hostA.Http : hostB.Http, ApiCalls.Job($"q{i}", steps: 8, delayMs: 20))).Id);
        var starts = new Dictionary<string, int> { ["host-a"] = 0, ["host-b"] = 0 };
        foreach (var id in ids)
        {
            var done = await ApiCalls.WaitFor(hostA.Http, id, j => j.State.IsTerminal(), Timeout, "finished");
            Assert.True((done.State, done.Attempts) == (JobState.Succeeded, 1), $"job {done.Name}: {done.State}, attempt {done.Attempts}, error {done.Error}; log: {await ApiCalls.Logs(hostA.Http, id)}");
            var started = (await ApiCalls.Logs(hostB.Http, id)).Split("started on ").Skip(1).Select(s => s[..6]).ToList();
            Assert.Single(started); // exactly one host ever ran it
            starts[started[0]]++;
        }
        Assert.Equal(16, starts.Values.Sum());

        // A long job; kill -9 whichever host runs it; the other host requeues it once the lease expires and resumes it.
        var json = ApiCalls.Job("takeover", steps: 80, seed: 33, delayMs: 25);
        var expected = await Reference.RunAsync(json);
        var longId = (await ApiCalls.Submit(hostA.Http, json)).Id;
        var running = await ApiCalls.WaitFor(hostA.Http, longId, j => j.Progress?.Step >= 20, Timeout, "at step 20");
        var (victim, survivor) = running.Owner == "host-a" ? (hostA, hostB) : (hostB, hostA);
        victim.Kill9();
        var finished = await ApiCalls.WaitFor(survivor.Http, longId, j => j.State.IsTerminal(), Timeout, "taken over and finished");
        Assert.Equal((JobState.Succeeded, 2), (finished.State, finished.Attempts));
        var logs = await ApiCalls.Logs(survivor.Http, longId);
        Assert.Contains($"started on {victim.HostId}", logs);
        Assert.Contains($"attempt 2 on {survivor.HostId}", logs);
        Assert.Matches(@"resumed from checkpoint at step [1-9]\d", logs);
        Assert.Equal(expected["final_loss"], finished.Metrics["final_loss"]);
        Assert.Equal(expected["w0"], finished.Metrics["w0"]);
    }

    public void Dispose() => dir.Dispose();
}
