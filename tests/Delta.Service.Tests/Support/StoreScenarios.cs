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
}
