using Delta.Abstractions;
using Delta.Abstractions.Plugins;
using Delta.Host.Cli;
using Delta.Host.Hosting;
using Delta.Host.Plugins;
using Delta.Host.Service;
using Delta.Service.Jobs;
using Microsoft.Extensions.Logging.Abstractions;

namespace Delta.Plugins.Classification.Tests;

/// <summary>A service job run by <see cref="HostJobExecutor"/> (what `delta serve` does with a claimed job) through the
/// real classification plugin loaded from plugins/, in the frozen-base mode its job file asks for.</summary>
[Trait("Category", "Slow")]
public sealed class ServiceJobTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-service-job-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task HostJobExecutorTrainsAJobInTheFrozenBaseModeItsSpecNames()
    {
        Synthetic.ImageFolder(Path.Combine(dir, "data", "bars"));
        var repo = AssetPaths.RepoRoot ?? throw new InvalidOperationException("tests must run inside the repository");
        var paths = new DeltaPaths(Path.Combine(dir, "data"), Path.Combine(dir, "patches"), Path.Combine(dir, "runs"), Path.Combine(repo, "plugins"));
        using var env = new CliEnvironment(paths, PluginCatalog.Load(paths.PluginsPath, CliApp.BuiltInVerbs), NullLoggerFactory.Instance);
        const string spec = """
            { "name": "NAME", "plugin": "classification", "backbone": "tiny_resnet", "weights": "random",
              "delta": { "stages": 2 }, "dataset": "bars", "hyper": { "epochs": 1, "batchSize": 8, "learningRate": 0.005 },
              "seed": 3, "frozenBase": "MODE", "options": { "imageSize": 32, "validationFraction": 0.1 } }
            """;
        async Task<(JobExecutionResult Result, List<string> Log)> Run(string name, string mode, string? id = null, bool resume = false)
        {
            var job = new JobRecord { Id = id ?? name, Name = name, Device = "cpu", Spec = spec.Replace("NAME", name).Replace("MODE", mode) };
            var log = new List<string>();
            var execution = new JobExecution(job, Path.Combine(dir, "work", job.Id), Path.Combine(dir, "checkpoints", job.Id), Resume: resume,
                new Progress<TrainProgress>(), log.Add);
            return (await new HostJobExecutor(env).ExecuteAsync(execution, CancellationToken.None), log);
        }

        var fast = await Run("bars-fast", "fast-autocast");
        var exact = await Run("bars-exact", "exact");

        Assert.Contains(fast.Log, line => line.Contains("frozen base fast-autocast", StringComparison.Ordinal));
        Assert.Contains(exact.Log, line => line.Contains("frozen base exact", StringComparison.Ordinal));
        Assert.InRange(fast.Result.Metrics["top1"], 0, 1);
        var patch = Assert.Single(fast.Result.Artifacts, a => a.EndsWith(".dpatch", StringComparison.Ordinal));
        Assert.True(File.Exists(patch), patch);
        // Same job, same seed: only the mode differs, and the bf16 base and sums moved the trained Δ weights.
        using var fastPatch = env.Patches.Load("bars-fast");
        using var exactPatch = env.Patches.Load("bars-exact");
        Assert.Equal(exactPatch.Tensors.Keys.Order(), fastPatch.Tensors.Keys.Order());
        Assert.Contains(exactPatch.Tensors, kv => !kv.Value.Equals(fastPatch.Tensors[kv.Key]));
        Assert.Equal("bars-exact", exactPatch.Manifest.Properties["serviceJob"]);               // the job that trained it

        // An attempt of the same job after one that saved its patch and died before its outcome was recorded: the
        // saved patch is the result (same metrics), nothing is trained or rewritten. Another job of that name is refused.
        var bytes = File.ReadAllBytes(exactPatch.Path);
        var again = await Run("bars-exact", "exact", resume: true);
        Assert.Contains(again.Log, line => line.StartsWith("patch already saved by an earlier attempt of this job", StringComparison.Ordinal));
        Assert.Equal(exact.Result.Metrics["top1"], again.Result.Metrics["top1"]);
        Assert.Equal(bytes, File.ReadAllBytes(exactPatch.Path));
        var other = await Assert.ThrowsAsync<Delta.Host.BadInputException>(() => Run("bars-exact", "exact", id: "another-job", resume: true));
        Assert.Contains("a patch 'bars-exact' already exists", other.Message);
    }
}
