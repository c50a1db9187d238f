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
}
