using Delta.Service.Jobs;
using Delta.Service.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Delta.Service.Tests.Reliability;

/// <summary>kill -9 of a real service process in the middle of training, then a restart on the same data folder.</summary>
[Trait("Category", "Slow")]
public sealed class KillRestartTests : IDisposable
{
    private readonly TempDir dir = new();
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Job_survives_two_kill9_restarts_and_ends_bit_identical_to_an_uninterrupted_run()
    {
        var json = ApiCalls.Job("killed", steps: 80, seed: 21, delayMs: 25, checkpointEvery: 5);
        var expected = await Reference.RunAsync(json);
        string id;
        var killedAt = new List<long>();
        var checkpointAtKill = new List<long>();

        using (var first = await ServiceProcess.StartAsync(dir.Path, "host-a"))
        {
            id = (await ApiCalls.Submit(first.Http, json)).Id;
            killedAt.Add((await ApiCalls.WaitFor(first.Http, id, j => j.Progress?.Step >= 17, Timeout, "at step 17")).Progress!.Step);
            first.Kill9();
            checkpointAtKill.Add(CheckpointStep(id));
        }
        AssertIntegrity();
        using (var second = await ServiceProcess.StartAsync(dir.Path, "host-a"))
        {
            var j = await ApiCalls.WaitFor(second.Http, id, j => j.Attempts == 2 && j.Progress?.Step >= 45, Timeout, "resumed to step 45");
            killedAt.Add(j.Progress!.Step);
            second.Kill9();
            checkpointAtKill.Add(CheckpointStep(id));
        }
        AssertIntegrity();
        using var third = await ServiceProcess.StartAsync(dir.Path, "host-a");
        var done = await ApiCalls.WaitFor(third.Http, id, j => j.State.IsTerminal(), Timeout, "finished");

        Assert.Equal((JobState.Succeeded, 3), (done.State, done.Attempts));
        var logs = (await ApiCalls.Logs(third.Http, id));
        var resumedAt = System.Text.RegularExpressions.Regex.Matches(logs, @"resumed from checkpoint at step (\d+)").Select(m => long.Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(2, resumedAt.Count);
        // Killed without warning, so each resume starts from the last periodic checkpoint (every 5 steps) the killed
        // process wrote: the one on disk right after the kill. The job writes a step's checkpoint before it reports
        // that step, so that checkpoint is no older than the last one before the step the test saw; how many steps
        // the job ran between that reply and the kill depends on the machine's load, so there is no upper bound.
        Assert.Equal(checkpointAtKill, resumedAt);
        Assert.All(resumedAt, s => Assert.Equal(0, s % 5));
        for (var i = 0; i < 2; i++) Assert.True(resumedAt[i] >= killedAt[i] / 5 * 5, $"resumed at {resumedAt[i]}, but step {killedAt[i]} had been reported");
        // The metrics history holds no step twice: each resumed attempt's first progress write replaced the points of
        // the steps it repeated after its checkpoint. (Not every step is there: reports still queued in the killed
        // process's pump when kill -9 came are lost, and a step before the checkpoint is not run again.)
        var csv = await third.Http.GetStringAsync($"/api/jobs/{id}/metrics.csv");
        var steps = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => long.Parse(l.Split(',')[0])).ToList();
        Assert.True(steps.Zip(steps.Skip(1)).All(p => p.First < p.Second), $"steps not strictly increasing: {string.Join(",", steps)}");
        Assert.Equal(80, steps[^1]);
        Assert.Equal(expected["final_loss"], done.Metrics["final_loss"]);
        Assert.Equal(expected["w0"], done.Metrics["w0"]);
        Assert.Equal(expected["bias"], done.Metrics["bias"]);
    }

    /// <summary>The step of the toy executor's checkpoint (ToyRegressionExecutor: magic, then the step).</summary>
    private long CheckpointStep(string id)
    {
        using var r = new BinaryReader(File.OpenRead(Path.Combine(dir.Path, "jobs", id, "checkpoints", "toy.ckpt")));
        r.ReadInt64();
        return r.ReadInt32();
    }

    /// <summary>After a kill the SQLite file is consistent and every row reads back.</summary>
    private void AssertIntegrity()
    {
        using var c = new SqliteConnection($"Data Source={Path.Combine(dir.Path, "jobs.db")};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", cmd.ExecuteScalar());
        cmd.CommandText = "SELECT count(*) FROM jobs WHERE json_valid(spec) AND (progress IS NULL OR json_valid(progress))";
        Assert.Equal(1L, cmd.ExecuteScalar());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        dir.Dispose();
    }
}
