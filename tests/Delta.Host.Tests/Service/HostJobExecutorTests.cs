using Delta.Abstractions.Plugins;
using Delta.Host.Service;
using Delta.Host.Tests.Support;
using Delta.Service.Jobs;

namespace Delta.Host.Tests.Service;

/// <summary>What <see cref="HostJobExecutor"/> (the executor of `delta serve`) checks when a job starts, before training.</summary>
public sealed class HostJobExecutorTests : IDisposable
{
    private readonly TempCliEnvironment host = new("EchoPlugin");

    public void Dispose() => host.Dispose();

    private Task<JobExecutionResult> Run()
    {
        const string spec = """
            { "name": "j1", "plugin": "echo", "backbone": "tiny_resnet", "weights": "random", "dataset": "set",
              "delta": { "stages": 1 }, "hyper": { "epochs": 1 } }
            """;
        var job = new JobRecord { Id = "job-1", Name = "j1", Device = "cpu", Spec = spec };
        var work = Path.Combine(host.Root, "state", "jobs", job.Id);
        return new HostJobExecutor(host.Env).ExecuteAsync(
            new JobExecution(job, work, Path.Combine(work, "checkpoints"), false, new Progress<TrainProgress>(), _ => { }), CancellationToken.None);
    }

    /// <summary>A patch folder with a file in its place fails the job at its start, naming the folder; before, the job
    /// trained and then failed at its save with a bare IOException. (The echo plugin refuses to train: reaching it means
    /// the check let the job through.) A folder that does not exist yet is made and lets the job through.</summary>
    [Fact]
    public async Task A_patch_folder_that_is_a_file_fails_the_job_before_it_trains()
    {
        var root = host.Env.Patches.Root;
        File.WriteAllText(root, "not a folder");
        var e = await Assert.ThrowsAsync<BadInputException>(Run);
        Assert.StartsWith($"patches: the patch folder {root} cannot be used (a file is in its place)", e.Message);
        Assert.Equal("not a folder", File.ReadAllText(root));

        File.Delete(root);
        Assert.Equal("echo does not train.", (await Assert.ThrowsAsync<NotSupportedException>(Run)).Message);
        Assert.True(Directory.Exists(root));
    }
}
