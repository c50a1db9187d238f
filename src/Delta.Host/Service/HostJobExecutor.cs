using Delta.Host.Cli;
using Delta.Host.Training;
using Delta.Service.Jobs;

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
        execution.Log($"plugin {job.Plugin.Info.Id}, backbone {job.Spec.Backbone}, device {job.Device}, frozen base {FrozenBaseModeNames.NameOf(job.FrozenBase)}, output {TrainVerb.OutputDir(env, job)}");
        var result = await TrainVerb.Run(env, job, execution.Resume, execution.Progress, cancellationToken, job.FrozenBase, execution.CheckpointDir);
        execution.Log($"patch saved: {result.Patch.Path}");
        return new JobExecutionResult(result.Metrics, [result.Patch.Path, .. result.Artifacts]);
    }
}
