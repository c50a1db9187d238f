using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Host.Cli;
using Delta.Host.Training;
using Delta.Service.Jobs;
using TorchSharp;

namespace Delta.Host.Service;

/// <summary>
/// Runs a service job through its task plugin, like `delta train`, but with the service's checkpoint folder
/// (stable across attempts and hosts) and Resume set when an earlier attempt may have left a checkpoint.
/// The plugin's trainer checkpoints every N steps and when the token is cancelled.
/// </summary>
public sealed class HostJobExecutor(CliEnvironment env) : IJobExecutor
{
    public async Task<JobExecutionResult> ExecuteAsync(JobExecution execution, CancellationToken cancellationToken)
    {
        var job = JobJson.Validate(execution.Job.Spec, $"job {execution.Job.Id}", env);
        var outputDir = Path.Combine(env.Paths.OutputPath, job.Spec.Name);
        Directory.CreateDirectory(outputDir);
        DefaultGenerator.Seed(job.Spec.Seed);
        var request = new TrainRequest
        {
            Job = job.Spec, Options = job.Options, DatasetPath = job.DatasetPath, OutputDir = outputDir,
            CheckpointDir = execution.CheckpointDir, Resume = execution.Resume, Progress = execution.Progress,
        };
        execution.Log($"plugin {job.Plugin.Info.Id}, backbone {job.Spec.Backbone}, device {job.Device}, frozen base {FrozenBaseModeNames.NameOf(job.FrozenBase)}, output {outputDir}");
        var result = await job.Plugin.Plugin.TrainAsync(env.Context(job.Device, "plugin." + job.Plugin.Info.Id, job.FrozenBase), request, cancellationToken);
        execution.Log($"patch saved: {result.Patch.Path}");
        return new JobExecutionResult(result.Metrics, [result.Patch.Path, .. result.Artifacts]);
    }
}
