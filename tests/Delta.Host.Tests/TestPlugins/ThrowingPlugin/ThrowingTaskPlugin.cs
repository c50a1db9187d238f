using Delta.Abstractions.Plugins;

namespace ThrowingPlugin;

public sealed class ThrowingTaskPlugin : ITaskPlugin
{
    public ThrowingTaskPlugin() => throw new InvalidOperationException("ThrowingPlugin refuses to start");
    public TaskPluginInfo Info => throw new NotSupportedException();
    public Type OptionsType => throw new NotSupportedException();
    public Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
}
