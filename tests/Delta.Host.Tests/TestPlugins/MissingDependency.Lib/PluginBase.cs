using Delta.Abstractions.Plugins;

namespace MissingDependency.Lib;

/// <summary>Base class of MissingDependencyPlugin's task; this assembly is not deployed with it.</summary>
public abstract class PluginBase : ITaskPlugin
{
    public abstract TaskPluginInfo Info { get; }
    public Type OptionsType => throw new NotSupportedException();
    public Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
}
