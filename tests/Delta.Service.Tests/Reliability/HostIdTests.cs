using Delta.Service.Jobs;
using Delta.Service.Tests.Support;

namespace Delta.Service.Tests.Reliability;

/// <summary>
/// Two live service processes with one Service:HostId on one queue (two `delta serve` on one machine, whose id defaults
/// to the machine name). Before, the second requeued the first's running job at its start (taking it for an earlier,
/// killed run of itself) and ran it too: both trained it into one checkpoint folder, each one's heartbeats extending the
/// lease for both, and the attempt the second started was thrown away when the first recorded its outcome.
/// </summary>
[Trait("Category", "Slow")]
public sealed class HostIdTests : IDisposable
{
    private readonly TempDir dir = new();
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_second_live_host_with_the_same_id_refuses_to_start_and_the_first_keeps_its_job()
    {
        using var first = await ServiceProcess.StartAsync(dir.Path, "host-a");
        var id = (await ApiCalls.Submit(first.Http, ApiCalls.Job("shared", steps: 60, seed: 4, delayMs: 40))).Id;
        await ApiCalls.WaitFor(first.Http, id, j => j.Progress?.Step >= 5, Timeout, "at step 5");

        ServiceProcess? second = null;
        InvalidOperationException refused;
        try { refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => second = await ServiceProcess.StartAsync(dir.Path, "host-a")); }
        finally { second?.Dispose(); }
        Assert.Contains("Service:HostId 'host-a' is in use by another running host", refused.Message);

        var done = await ApiCalls.WaitFor(first.Http, id, j => j.State.IsTerminal(), Timeout, "finished");
        Assert.Equal((JobState.Succeeded, 1), (done.State, done.Attempts));
        Assert.DoesNotContain("lease lost", await ApiCalls.Logs(first.Http, id));
    }

    /// <summary>A lock file that cannot be made (here: a file where the state folder should be) is said as that, not as
    /// another host holding the id; and the lock, once released, is free for the next start.</summary>
    [Fact]
    public void A_lock_file_that_cannot_be_made_is_not_reported_as_a_host_in_use()
    {
        var notAFolder = System.IO.Path.Combine(dir.Path, "state-is-a-file");
        File.WriteAllText(notAFolder, "x");
        var e = Assert.Throws<InvalidOperationException>(() => Delta.Service.Worker.HostIdLock.Acquire(notAFolder, "host-b"));
        Assert.Contains("Service:HostId 'host-b': its lock file", e.Message);
        Assert.DoesNotContain("in use by another running host", e.Message);

        using (Delta.Service.Worker.HostIdLock.Acquire(dir.Path, "host-b"))
            Assert.Contains("in use by another running host", Assert.Throws<InvalidOperationException>(() => Delta.Service.Worker.HostIdLock.Acquire(dir.Path, "host-b")).Message);
        using var again = Delta.Service.Worker.HostIdLock.Acquire(dir.Path, "host-b");
    }

    public void Dispose() => dir.Dispose();
}
