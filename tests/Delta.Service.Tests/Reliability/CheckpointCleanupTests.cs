using Delta.Service.Jobs;
using Delta.Service.Tests.Support;

namespace Delta.Service.Tests.Reliability;

/// <summary>
/// A job that succeeded never runs again: its checkpoint folder is deleted once its outcome is recorded, its artifacts
/// (in the job's folder beside it) stay. A cancelled or failed job keeps its checkpoints. Before, every job left its
/// checkpoint folder under the state folder for good.
/// </summary>
public sealed class CheckpointCleanupTests : IDisposable
{
    private readonly TempDir dir = new();
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public void Dispose() => dir.Dispose();

    private string Checkpoint(string jobId) => Path.Combine(dir.Path, "jobs", jobId, "checkpoints", "toy.ckpt");

    [Fact]
    public async Task A_succeeded_jobs_checkpoints_are_deleted_and_a_cancelled_or_failed_jobs_are_kept()
    {
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path));
        var cancelled = await ApiCalls.Submit(svc.Http, ApiCalls.Job("cancelled", steps: 1000, delayMs: 50, checkpointEvery: 2));
        await ApiCalls.WaitFor(svc.Http, cancelled.Id, j => j.Progress?.Step >= 3, Timeout, "at step 3");
        await svc.Http.PostAsync($"/api/jobs/{cancelled.Id}/cancel", null);
        Assert.Equal(JobState.Cancelled, (await ApiCalls.WaitFor(svc.Http, cancelled.Id, j => j.State.IsTerminal(), Timeout, "cancelled")).State);
        var failed = await ApiCalls.Submit(svc.Http, ApiCalls.Job("failed", steps: 10, failAt: 6, checkpointEvery: 2));
        var good = await ApiCalls.Submit(svc.Http, ApiCalls.Job("good", steps: 10, checkpointEvery: 2));

        var done = await ApiCalls.WaitFor(svc.Http, good.Id, j => j.State.IsTerminal(), Timeout, "finished");
        Assert.Equal(JobState.Succeeded, done.State);
        // Deleted after the outcome is committed, so shortly after the job reads succeeded.
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Directory.Exists(Path.GetDirectoryName(Checkpoint(good.Id))) && DateTime.UtcNow < until) await Task.Delay(50);
        Assert.False(Directory.Exists(Path.GetDirectoryName(Checkpoint(good.Id))), "the succeeded job's checkpoint folder is still there");
        Assert.Equal(2, done.Artifacts.Count);
        Assert.All(done.Artifacts, a => Assert.True(File.Exists(a), a));

        Assert.Equal(JobState.Failed, (await ApiCalls.Get(svc.Http, failed.Id)).State);
        foreach (var kept in new[] { cancelled.Id, failed.Id }) Assert.True(File.Exists(Checkpoint(kept)), Checkpoint(kept));
    }
}
