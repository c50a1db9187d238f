namespace Delta.Abstractions.Plugins;

/// <summary>
/// What a task plugin implements. The host finds implementations in plugins/&lt;Name&gt;/&lt;Name&gt;.dll,
/// creates them with a public parameterless constructor, checks <see cref="TaskPluginInfo.ContractVersion"/>,
/// binds <see cref="OptionsType"/> from the job, and calls these with a <see cref="TaskContext"/>.
/// Long work reports progress through the request and honours the cancellation token.
/// </summary>
public interface ITaskPlugin
{
    TaskPluginInfo Info { get; }
    /// <summary>A class implementing <see cref="ITaskOptions"/> with a public parameterless constructor.</summary>
    Type OptionsType { get; }

    /// <summary>Trains a patch; saves it through <see cref="TaskContext.Patches"/> under <see cref="TrainRequest.PatchName"/>.</summary>
    Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, CancellationToken cancellationToken);
    /// <summary>Loads a patch and scores it on a dataset.</summary>
    Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, CancellationToken cancellationToken);
    /// <summary>Loads a patch and runs it on inputs; each result may come with a rendered picture.</summary>
    Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, CancellationToken cancellationToken);
}
