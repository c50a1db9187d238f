using Delta.Service.Jobs;
using Delta.Service.Store;

namespace Delta.Service.Tests.Support;

/// <summary>Scenarios run against both stores: the SQL is shared, but each engine must accept it and agree.</summary>
public static class StoreScenarios
{
    /// <summary>
    /// A cancel requested while a job runs is not lost when its host lets go of it (graceful shutdown, restart):
    /// the job ends cancelled instead of running again. <paramref name="flagQueuedRow"/> sets the flag on a queued row
    /// by hand, as a queue written before this rule may hold one; the claim must pass it by.
    /// </summary>
    public static async Task A_cancel_requested_while_running_survives_the_host_letting_go(IJobStore s, Func<string, Task> flagQueuedRow)
    {
        var lease = TimeSpan.FromSeconds(30);
        var (released, _) = await s.SubmitAsync(new JobSubmission("released", "cpu", "{}"));
        var (requeued, _) = await s.SubmitAsync(new JobSubmission("requeued", "cpu", "{}"));
        var (plain, _) = await s.SubmitAsync(new JobSubmission("plain", "cpu", "{}"));
        for (var i = 0; i < 3; i++) Assert.NotNull(await s.ClaimNextAsync("cpu", "h1", lease));
        await s.RequestCancelAsync(released.Id);
        await s.RequestCancelAsync(requeued.Id);

        Assert.True(await s.ReleaseAsync(released.Id, "h1"));        // shutdown before the heartbeat saw the flag
        Assert.Equal(2, await s.RequeueStaleAsync("h1"));             // restart: "requeued" and "plain"
        foreach (var id in new[] { released.Id, requeued.Id })
        {
            var job = (await s.GetAsync(id))!;
            Assert.Equal((JobState.Cancelled, "cancelled by request", null), (job.State, job.Error, job.Owner));
            Assert.NotNull(job.Finished);
        }
        Assert.Contains(await s.GetLogsAsync(requeued.Id), l => l.Text.Contains("cancelled, as requested"));
        Assert.Equal(JobState.Queued, (await s.GetAsync(plain.Id))!.State);

        await flagQueuedRow(plain.Id);
        Assert.Null(await s.ClaimNextAsync("cpu", "h2", lease));
    }

    /// <summary>Reports that queued up go in one transaction; a resumed attempt's first write replaces the history
    /// points of the steps it repeats, so metrics.csv and the chart hold each step once; a chart's thinned history is
    /// evenly spaced and keeps the last point.</summary>
    public static async Task Progress_batches_record_every_point_and_a_resumed_attempt_replaces_the_steps_it_repeats(IJobStore s)
    {
        var (job, _) = await s.SubmitAsync(new JobSubmission("batched", "cpu", "{}"));
        Assert.NotNull(await s.ClaimNextAsync("cpu", "h1", TimeSpan.FromSeconds(30)));
        JobProgress At(long step, double loss) => new() { Step = step, TotalSteps = 10, Metrics = new Dictionary<string, double> { ["loss"] = loss } };
        Assert.True(await s.UpdateProgressAsync(job.Id, "h1", [At(1, 0.9), At(2, 0.8), At(3, 0.7), new JobProgress { Step = 4, TotalSteps = 10 }, At(5, 0.5)], replaceFromFirstStep: true));
        Assert.Equal(5, (await s.GetAsync(job.Id))!.Progress!.Step);                       // the last report
        Assert.Equal([1L, 2L, 3L, 5L], (await s.GetMetricHistoryAsync(job.Id)).Select(p => p.Step));   // one point per report with metrics
        // Attempt 2 resumes from the checkpoint at step 2 and reports steps 3.. again.
        Assert.True(await s.UpdateProgressAsync(job.Id, "h1", [At(3, 0.71), At(4, 0.6)], replaceFromFirstStep: true));
        Assert.True(await s.UpdateProgressAsync(job.Id, "h1", [At(5, 0.52)]));
        var history = await s.GetMetricHistoryAsync(job.Id);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], history.Select(p => p.Step));
        Assert.Equal([0.9, 0.8, 0.71, 0.6, 0.52], history.Select(p => p.Metrics["loss"]));

        Assert.True(await s.UpdateProgressAsync(job.Id, "h1", Enumerable.Range(6, 995).Select(i => At(i, 1.0 / i)).ToList()));   // steps 1..1000
        Assert.Equal(1000, (await s.GetMetricHistoryAsync(job.Id)).Count);
        var thinned = (await s.GetMetricHistoryAsync(job.Id, maxPoints: 100)).Select(p => p.Step).ToList();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => 1L + 10 * i).Append(1000L), thinned);
        Assert.Equal(1000, (await s.GetMetricHistoryAsync(job.Id, maxPoints: 5000)).Count);
    }

    /// <summary>An epoch's end reports its last step twice (the step's losses, then the epoch's means and validation): the
    /// history keeps one point per step, merged, whether the two reports come in one batch or in two; a later value wins
    /// a name both have. Before, the step had two rows in metrics.csv and the chart.</summary>
    public static async Task Reports_of_one_step_are_one_point(IJobStore s)
    {
        var (job, _) = await s.SubmitAsync(new JobSubmission("merged", "cpu", "{}"));
        Assert.NotNull(await s.ClaimNextAsync("cpu", "h1", TimeSpan.FromSeconds(30)));
        JobProgress At(long step, params (string Name, double Value)[] m) => new() { Step = step, TotalSteps = 10, Metrics = m.ToDictionary(x => x.Name, x => x.Value) };
        Assert.True(await s.UpdateProgressAsync(job.Id, "h1", [At(1, ("ce", 0.9)), At(2, ("ce", 0.8)), At(2, ("epoch_ce", 0.85), ("val_top1", 0.5))], replaceFromFirstStep: true));
        Assert.True(await s.UpdateProgressAsync(job.Id, "h1", [At(3, ("ce", 0.7)), At(4, ("ce", 0.6))]));
        Assert.True(await s.UpdateProgressAsync(job.Id, "h1", [At(4, ("epoch_ce", 0.65), ("ce", 0.61)), At(5, ("ce", 0.5))]));   // step 4 again, next batch
        var history = await s.GetMetricHistoryAsync(job.Id);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], history.Select(p => p.Step));
        Assert.Equal(new Dictionary<string, double> { ["ce"] = 0.8, ["epoch_ce"] = 0.85, ["val_top1"] = 0.5 }, history[1].Metrics);
        Assert.Equal(new Dictionary<string, double> { ["ce"] = 0.61, ["epoch_ce"] = 0.65 }, history[3].Metrics);
        Assert.Equal(new Dictionary<string, double> { ["ce"] = 0.5 }, history[4].Metrics);
    }

    /// <summary>
    /// An idempotency key names one submission: a retry (the same spec, text compared exactly) gets its job back, and
    /// another job sent with the key is refused naming the key's job, not answered with it. Before, any job under a used
    /// key got the first job back, and the caller took it for its own. Of submissions racing with one key through
    /// <paramref name="stores"/> (separate stores on one queue), one gets in, the retries among them get its job and the
    /// others are refused naming it.
    /// </summary>
    public static async Task An_idempotency_key_names_one_submission(IReadOnlyList<IJobStore> stores)
    {
        var s = stores[0];
        const string spec = """{"name":"a","steps":3}""";
        var (a, created) = await s.SubmitAsync(new JobSubmission("a", "cpu", spec, "k1"));
        Assert.True(created);
        var (retried, again) = await s.SubmitAsync(new JobSubmission("a", "cpu", spec, "k1"));
        Assert.Equal((a.Id, false), (retried.Id, again));
        foreach (var other in new[] { new JobSubmission("a", "cpu", """{"name":"a","steps":4}""", "k1"), new JobSubmission("b", "cpu", """{"name":"b"}""", "k1") })
        {
            var refused = await Assert.ThrowsAsync<IdempotencyKeyReusedException>(() => s.SubmitAsync(other));
            Assert.Equal(a.Id, refused.JobId);
            Assert.StartsWith($"Idempotency-Key: the key 'k1' was used for another job ({a.Id})", refused.Message);
        }
        Assert.Equal(a.Id, Assert.Single(await s.ListAsync()).Id);

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var racing = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            await start.Task;
            try
            {
                var (job, made) = await stores[i % stores.Count].SubmitAsync(new JobSubmission($"r{i % 2}", "cpu", $$"""{"i":{{i % 2}}}""", "k2"));
                return (Spec: i % 2, job.Id, Created: made, Refused: (string?)null);
            }
            catch (IdempotencyKeyReusedException e) { return (Spec: i % 2, Id: (string?)null, Created: false, Refused: e.JobId); }
        })).ToList();
        start.SetResult();
        var outcomes = await Task.WhenAll(racing);
        var winner = Assert.Single(outcomes, o => o.Created);
        Assert.All(outcomes.Where(o => o.Spec == winner.Spec), o => Assert.Equal(winner.Id, o.Id));
        Assert.All(outcomes.Where(o => o.Spec != winner.Spec), o => Assert.Equal((null, winner.Id), (o.Id, o.Refused)));
        Assert.Equal(2, (await s.ListAsync()).Count);
    }

    /// <summary>A thinned history (the chart's) keeps every epoch's end: its means and validation are reported at that
    /// step only, and every k-th point would keep one in k of them.</summary>
    public static async Task A_thinned_history_keeps_every_epoch_end(IJobStore s)
    {
        var (job, _) = await s.SubmitAsync(new JobSubmission("epochs", "cpu", "{}"));
        Assert.NotNull(await s.ClaimNextAsync("cpu", "h1", TimeSpan.FromSeconds(30)));
        var reports = new List<JobProgress>();
        for (long step = 1; step <= 1000; step++)
        {
            reports.Add(new JobProgress { Step = step, Metrics = new Dictionary<string, double> { ["loss"] = 1.0 / step } });
            if (step % 100 == 7)
                reports.Add(new JobProgress { Step = step, Metrics = new Dictionary<string, double> { ["epoch_loss"] = 2.0 / step, ["val_top1"] = step / 1000.0 } });
        }
        Assert.True(await s.UpdateProgressAsync(job.Id, "h1", reports, replaceFromFirstStep: true));
        var thinned = await s.GetMetricHistoryAsync(job.Id, maxPoints: 30);      // every 34th point by position
        var epochEnds = thinned.Where(p => p.Metrics.ContainsKey("val_top1")).Select(p => p.Step).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 100L * i + 7), epochEnds);
        Assert.InRange(thinned.Count, 30, 40);
        Assert.Equal(thinned.Select(p => p.Step).Order(), thinned.Select(p => p.Step));
    }

    /// <summary>
    /// A job's name is the patch it saves, so it belongs to one job that has not ended at a time. While the job is queued or
    /// running — requeued after a lost lease or put back by a graceful stop included, when it keeps its name and claims run
    /// it again — a submission with the name is refused naming the job; a retry with the job's idempotency key gets the job
    /// back instead. An ended job (succeeded, failed, cancelled) frees the name. Of submissions racing with one name through
    /// <paramref name="stores"/> (separate stores on one queue), exactly one gets in.
    /// </summary>
    public static async Task A_name_belongs_to_one_job_that_has_not_ended(IReadOnlyList<IJobStore> stores)
    {
        var s = stores[0];
        var lease = TimeSpan.FromSeconds(30);
        async Task<JobNameTakenException> Refused(string name) =>
            await Assert.ThrowsAsync<JobNameTakenException>(() => s.SubmitAsync(new JobSubmission(name, "cpu", """{"again":true}""")));

        var (cat, _) = await s.SubmitAsync(new JobSubmission("cat", "cpu", "{}", "key-cat"));
        var refused = await Refused("cat");
        Assert.Equal(cat.Id, refused.HolderId);
        Assert.StartsWith($"name: job {cat.Id} (queued) already has the name 'cat'", refused.Message);
        Assert.Contains($"delta jobs cancel {cat.Id}", refused.Message);
        var (retried, created) = await s.SubmitAsync(new JobSubmission("cat", "cpu", "{}", "key-cat"));
        Assert.Equal((cat.Id, false), (retried.Id, created));
        var (upper, _) = await s.SubmitAsync(new JobSubmission("Cat", "cpu", "{}"));    // another patch name, as in the patch store
        Assert.Equal("Cat", upper.Name);

        Assert.Equal(cat.Id, (await s.ClaimNextAsync("cpu", "h1", lease))!.Id);
        Assert.StartsWith($"name: job {cat.Id} (running)", (await Refused("cat")).Message);
        Assert.Equal(1, await s.RequeueStaleAsync("h1"));                               // its host restarted
        Assert.Equal(cat.Id, (await Refused("cat")).HolderId);
        Assert.Equal((cat.Id, 2), ((await s.ClaimNextAsync("cpu", "h2", lease))!.Id, (await s.GetAsync(cat.Id))!.Attempts));
        Assert.True(await s.ReleaseAsync(cat.Id, "h2"));                                // a graceful stop
        Assert.Equal(cat.Id, (await Refused("cat")).HolderId);
        Assert.Equal(cat.Id, (await s.ClaimNextAsync("cpu", "h2", lease))!.Id);
        Assert.True(await s.CompleteAsync(cat.Id, "h2", new JobOutcome(JobState.Succeeded, null, new Dictionary<string, double>(), [])));

        var (second, secondCreated) = await s.SubmitAsync(new JobSubmission("cat", "cpu", "{}"));
        Assert.True(secondCreated);
        Assert.Equal(JobState.Cancelled, (await s.RequestCancelAsync(second.Id))!.State);
        var (third, _) = await s.SubmitAsync(new JobSubmission("cat", "cpu", "{}"));
        Assert.Equal(upper.Id, (await s.ClaimNextAsync("cpu", "h2", lease))!.Id);
        Assert.Equal(third.Id, (await s.ClaimNextAsync("cpu", "h2", lease))!.Id);
        Assert.True(await s.CompleteAsync(third.Id, "h2", JobOutcome.Failed("boom")));
        Assert.True((await s.SubmitAsync(new JobSubmission("cat", "cpu", "{}"))).Created);

        // Rounds of submissions released together, each with a name of its own, through stores whose connections are open
        // already: without the submission lock (PostgreSQL) two of a round pass the check before either inserts.
        await Task.WhenAll(stores.SelectMany(st => Enumerable.Range(0, 4).Select(_ => st.ListAsync(1))));
        for (var round = 0; round < 8; round++)
        {
            var name = $"dog{round}";
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var racing = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            {
                await start.Task;
                try { return (Id: (await stores[i % stores.Count].SubmitAsync(new JobSubmission(name, "cpu", $$"""{"i":{{i}}}"""))).Job.Id, Holder: (string?)null); }
                catch (JobNameTakenException e) { return (Id: (string?)null, Holder: e.HolderId); }
            })).ToList();
            start.SetResult();
            var outcomes = await Task.WhenAll(racing);
            var winner = Assert.Single(outcomes, o => o.Id is not null).Id;
            Assert.All(outcomes.Where(o => o.Id is null), o => Assert.Equal(winner, o.Holder));
            Assert.Equal(winner, Assert.Single(await s.ListAsync(), j => j.Name == name).Id);
        }
    }
}
