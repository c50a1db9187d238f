using Delta.Host.Cli;
using Delta.Host.Jobs;
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
        // An earlier attempt trained and saved this job's patch, then died before its outcome was recorded: the patch
        // (which names this job) is the result; training again would be refused (the name is taken) or wasted.
        if (execution.Resume && JobPatchStore.SavedByJob(env.Patches, job.Spec.Name, execution.Job.Id) is { } saved)
        {
            execution.Log($"patch already saved by an earlier attempt of this job: {saved.Path}");
            return new JobExecutionResult(saved.Manifest.Metrics, [saved.Path]);
        }
        var result = await TrainVerb.Run(env, job, execution.Resume, execution.Progress, cancellationToken, job.FrozenBase, execution.CheckpointDir,
            serviceJobId: execution.Job.Id);
        execution.Log($"patch saved: {result.Patch.Path}");
        return new JobExecutionResult(result.Metrics, [result.Patch.Path, .. result.Artifacts]);
    }
}
