using Delta.Abstractions.Plugins;
using Delta.Service.Jobs;
using Delta.Service.TestHost;

namespace Delta.Service.Tests.Support;

/// <summary>An uninterrupted run of a job, straight through the executor, to compare resumed runs against.</summary>
public static class Reference
{
    public static async Task<IReadOnlyDictionary<string, double>> RunAsync(string jobJson)
    {
        using var dir = new TempDir();
        var sub = new ToyJobValidator().Validate(jobJson, null);
        var job = new JobRecord { Id = "ref", Name = sub.Name, Device = sub.Device, Spec = sub.Spec };
        var result = await new ToyRegressionExecutor().ExecuteAsync(
            new JobExecution(job, dir.Path, Path.Combine(dir.Path, "ck"), false, new Progress<TrainProgress>(), _ => { }), CancellationToken.None);
        return result.Metrics;
    }
}
