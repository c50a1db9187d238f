using Delta.Abstractions.Plugins;

namespace OldContractPlugin;

/// <summary>Declares contract version 0, as a plugin compiled against an older Delta.Abstractions would.</summary>
public sealed class OldContractTaskPlugin : ITaskPlugin
{
    public TaskPluginInfo Info { get; } = new("old-contract", "Built against contract 0", TaskKind.Other, [], [], ContractVersion: 0);
    public Type OptionsType => typeof(NoOptions);
    public Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
}

public sealed class NoOptions : ITaskOptions
{
    public IEnumerable<string> Validate() => [];
}
