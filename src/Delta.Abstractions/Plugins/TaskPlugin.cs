namespace Delta.Abstractions.Plugins;

/// <summary>Convenience base: typed options instead of casting in every method.</summary>
public abstract class TaskPlugin<TOptions> : ITaskPlugin where TOptions : class, ITaskOptions, new()
{
    public abstract TaskPluginInfo Info { get; }
    public Type OptionsType => typeof(TOptions);

    public Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, CancellationToken cancellationToken) =>
        TrainAsync(context, request, Options(request.Options), cancellationToken);
    public Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, CancellationToken cancellationToken) =>
        EvaluateAsync(context, request, Options(request.Options), cancellationToken);
    public Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, CancellationToken cancellationToken) =>
        PredictAsync(context, request, Options(request.Options), cancellationToken);

    protected abstract Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, TOptions options, CancellationToken cancellationToken);
    protected abstract Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, TOptions options, CancellationToken cancellationToken);
    protected abstract Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, TOptions options, CancellationToken cancellationToken);

    private static TOptions Options(ITaskOptions? options) => options switch
    {
        null => new TOptions(),
        TOptions typed => typed,
        _ => throw new ArgumentException($"Expected options of type {typeof(TOptions).Name}, got {options.GetType().Name}."),
    };
}
