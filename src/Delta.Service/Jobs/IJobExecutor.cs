using Delta.Abstractions.Plugins;

namespace Delta.Service.Jobs;

/// <summary>
/// Runs one job spec to the end: validates it, trains through the plugin with
/// <see cref="TrainRequest.CheckpointDir"/> = <see cref="JobExecution.CheckpointDir"/> and
/// <see cref="TrainRequest.Resume"/>, reports progress, and returns final metrics and artifact paths.
/// It must honour the token: on cancellation it writes a checkpoint and throws OperationCanceledException
/// (the worker decides whether that means "cancelled by user" or "host shutting down, requeue").
/// The host implements it over its plugins; the service never references the host.
/// </summary>
public interface IJobExecutor
{
    Task<JobExecutionResult> ExecuteAsync(JobExecution execution, CancellationToken cancellationToken);
}

/// <param name="WorkDir">Per-job folder (outputs, artifacts).</param>
/// <param name="CheckpointDir">Stable across attempts, so a new host resumes what a dead one left.</param>
/// <param name="Resume">True when an earlier attempt may have left a checkpoint.</param>
public sealed record JobExecution(JobRecord Job, string WorkDir, string CheckpointDir, bool Resume,
    IProgress<TrainProgress> Progress, Action<string> Log);

public sealed record JobExecutionResult(IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<string> Artifacts);
