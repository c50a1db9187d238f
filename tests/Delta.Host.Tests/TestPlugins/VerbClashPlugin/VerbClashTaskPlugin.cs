using Delta.Abstractions.Plugins;

namespace VerbClashPlugin;

/// <summary>Wants the built-in verb name "train".</summary>
public sealed class VerbClashTaskPlugin : ITaskPlugin, IPluginCommands
{
    public TaskPluginInfo Info { get; } = new("verb-clash", "Declares a verb train", TaskKind.Other, [], []);
    public IReadOnlyList<PluginCommand> Commands { get; } = [new("train", "clashes", "train", (_, _, _) => Task.FromResult(0))];
    public Type OptionsType => typeof(NoOptions);
    public Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
}

public sealed class NoOptions : ITaskOptions
{
    public IEnumerable<string> Validate() => [];
}
