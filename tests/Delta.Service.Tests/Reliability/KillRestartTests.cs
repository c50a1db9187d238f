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

        using (var first = await ServiceProcess.StartAsync(dir.Path, "host-a"))
        {
            id = (await ApiCalls.Submit(first.Http, json)).Id;
            killedAt.Add((await ApiCalls.WaitFor(first.Http, id, j => j.Progress?.Step >= 17, Timeout, "at step 17")).Progress!.Step);
            first.Kill9();
        }
        AssertIntegrity();
        using (var second = await ServiceProcess.StartAsync(dir.Path, "host-a"))
        {
            var j = await ApiCalls.WaitFor(second.Http, id, j => j.Attempts == 2 && j.Progress?.Step >= 45, Timeout, "resumed to step 45");
            killedAt.Add(j.Progress!.Step);
            second.Kill9();
        }
        AssertIntegrity();
        using var third = await ServiceProcess.StartAsync(dir.Path, "host-a");
        var done = await ApiCalls.WaitFor(third.Http, id, j => j.State.IsTerminal(), Timeout, "finished");

        Assert.Equal((JobState.Succeeded, 3), (done.State, done.Attempts));
        var logs = (await ApiCalls.Logs(third.Http, id));
        var resumedAt = System.Text.RegularExpressions.Regex.Matches(logs, @"resumed from checkpoint at step (\d+)").Select(m => long.Parse(m.Groups[1].Value)).ToList();
        Assert.Equal(2, resumedAt.Count);
        // Killed without warning, so each resume starts from the last periodic checkpoint (every 5 steps) before the kill.
        Assert.All(resumedAt, s => Assert.Equal(0, s % 5));
        Assert.InRange(resumedAt[0], killedAt[0] - 5, killedAt[0] + 1);
        Assert.InRange(resumedAt[1], killedAt[1] - 5, killedAt[1] + 1);
        Assert.Equal(expected["final_loss"], done.Metrics["final_loss"]);
        Assert.Equal(expected["w0"], done.Metrics["w0"]);
        Assert.Equal(expected["bias"], done.Metrics["bias"]);
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
