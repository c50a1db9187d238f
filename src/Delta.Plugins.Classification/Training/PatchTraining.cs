using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Data.Loading;
using Delta.Plugins.Classification.Metrics;
using Delta.Plugins.Classification.Models;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Training;

/// <summary>Trains a classifier's Δ-modules and head (never the shared base) with the host's task-agnostic loop:
/// the task contributes one named loss, "ce" (cross entropy), and top-1 on the validation split.</summary>
public static class PatchTraining
{
    public static TrainOutcome Fit(ITrainer trainer, ClassifierModel model, DataLoaders loaders, TrainingHyperParameters hyper,
        CancellationToken ct, IProgress<TrainProgress>? progress = null, string? checkpointDir = null, bool resume = false, IList<ITrainHook>? hooks = null)
    {
        var loop = new TrainLoop<ImageBatch>
        {
            Parameters = model.TrainableParameters,
            Losses = b => new Dictionary<string, Tensor> { ["ce"] = nn.functional.cross_entropy(model.Logits(b.Images), b.Labels) },
            Batches = loaders.Train.Epoch,
            Hyper = hyper,
            StepsPerEpoch = loaders.Train.BatchesPerEpoch,
            SetTrainMode = model.SetTrainMode,
            Validate = loaders.Val is null ? null : () => new Dictionary<string, double> { ["top1"] = Evaluation.Run(loaders.Val.Epoch(0), model.Logits).Top1 },
            Monitor = loaders.Val is null ? null : "top1",
            State = model,
            Generators = model.Backbone.Generators,
            CheckpointDir = checkpointDir,
            Resume = resume,
            Progress = progress,
            Hooks = hooks ?? [],
        };
        return trainer.Fit(loop, ct);
    }
}
