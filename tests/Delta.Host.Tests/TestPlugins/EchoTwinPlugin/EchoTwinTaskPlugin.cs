using Delta.Abstractions.Plugins;

namespace EchoTwinPlugin;

/// <summary>Claims the id "echo", which EchoPlugin (loaded first: folders load in ordinal order) already has.</summary>
public sealed class EchoTwinTaskPlugin : ITaskPlugin
{
    public TaskPluginInfo Info { get; } = new("echo", "A second plugin with the id echo", TaskKind.Other, [], []);
    public Type OptionsType => typeof(NoOptions);
    public Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
}

public sealed class NoOptions : ITaskOptions
{
    public IEnumerable<string> Validate() => [];
}
