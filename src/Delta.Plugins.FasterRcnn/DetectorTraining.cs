using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Plugins.FasterRcnn.Data;

namespace Delta.Plugins.FasterRcnn;

/// <summary>Builds the host's task-agnostic <see cref="TrainLoop{TBatch}"/> for a detector: the optimizer sees only
/// <see cref="Model.FasterRcnn.TrainableParameters"/> (Δ-modules or the trainable base copy, plus the heads), and each
/// step's losses are the model's named loss dictionary.</summary>
public static class DetectorTraining
{
    public static TrainOutcome Fit(ITrainer trainer, Model.FasterRcnn model, DetectionLoader loader, TrainingHyperParameters hyper,
        int seed, Func<IReadOnlyDictionary<string, double>>? validate = null, IProgress<TrainProgress>? progress = null,
        string? checkpointDir = null, bool resume = false, CancellationToken cancellationToken = default) =>
        trainer.Fit(Loop(model, loader, hyper, seed, validate, progress, checkpointDir, resume), cancellationToken);

    /// <summary>The loop <see cref="Fit"/> runs; its <see cref="TrainLoop{TBatch}.Parameters"/> are all the optimizer gets.</summary>
    public static TrainLoop<DetectionBatch> Loop(Model.FasterRcnn model, DetectionLoader loader, TrainingHyperParameters hyper,
        int seed, Func<IReadOnlyDictionary<string, double>>? validate = null, IProgress<TrainProgress>? progress = null,
        string? checkpointDir = null, bool resume = false)
    {
        var generator = new torch.Generator((ulong)seed);
        return new TrainLoop<DetectionBatch>
        {
            Parameters = model.TrainableParameters,
            Losses = batch => model.Losses(batch, generator),
            Batches = epoch => loader.Batches(hyper.BatchSize, shuffle: true, new Random(seed * 7919 + epoch)),
            Hyper = hyper,
            StepsPerEpoch = (loader.Count + hyper.BatchSize - 1) / hyper.BatchSize,
            SetTrainMode = model.train,
            Validate = validate,
            Monitor = validate == null ? null : "mAP_area",
            Progress = progress,
            CheckpointDir = checkpointDir,
            Resume = resume,
            State = new DetectorState(model),
            // The samplers' generator resumes where it was (it restarted from the seed before), and random gates' too.
            Generators = [generator, .. model.Backbone.Generators],
        };
    }
}
