using Delta.Abstractions.Patches;
using Delta.Abstractions.Plugins;

namespace EchoPlugin;

public sealed class EchoOptions : ITaskOptions
{
    public int Repeat { get; set; } = 1;
    public IEnumerable<string> Validate()
    {
        if (Repeat < 1) yield return $"options.repeat must be ≥ 1 (got {Repeat}).";
    }
}

/// <summary>Works, without training anything: proves loading, option binding and verb dispatch.</summary>
public sealed class EchoTaskPlugin : TaskPlugin<EchoOptions>, IPluginCommands
{
    public override TaskPluginInfo Info { get; } = new("echo", "Test plugin that echoes", TaskKind.Other, ["tiny_resnet"], [1]);

    public IReadOnlyList<PluginCommand> Commands { get; } =
    [
        new("demo", "prints its arguments", "demo [args] [--fail]", (context, args, ct) =>
        {
            Console.Out.WriteLine($"echo-demo device={context.Device.type} args={string.Join("|", args)}");
            return Task.FromResult(args.Contains("--fail") ? 1 : 0);
        }),
    ];

    protected override Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, EchoOptions options, CancellationToken cancellationToken) =>
        throw new NotSupportedException("echo does not train.");
    protected override Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, EchoOptions options, CancellationToken cancellationToken) =>
        throw new NotSupportedException("echo does not evaluate.");
    protected override Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, EchoOptions options, CancellationToken cancellationToken) =>
        throw new NotSupportedException("echo does not predict.");
}
