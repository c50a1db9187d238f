using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RotationPlugin;

/// <summary>
/// Rotation prediction, a small but real self-supervised task: given an image rotated by 0°, 90°, 180° or
/// 270°, say which. Trains Δ-modules + a linear head on a frozen backbone through the host's trainer,
/// saves them as a patch, scores a patch (accuracy over all four rotations of every image), and predicts
/// the rotation of single images.
/// </summary>
public sealed class RotationTaskPlugin : TaskPlugin<RotationOptions>
{
    public override TaskPluginInfo Info { get; } = new(
        "rotation", "Rotation prediction (0/90/180/270°) on a folder of images — the sample plugin",
        TaskKind.Classification, SupportedArchitectures: [], SupportedDeltaStages: [0, 1, 2, 4]);

    protected override Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, RotationOptions options, CancellationToken cancellationToken) =>
        Task.Run(() => Train(context, request, options, cancellationToken), cancellationToken);

    private TrainResult Train(TaskContext context, TrainRequest request, RotationOptions options, CancellationToken ct)
    {
        var job = request.Job;
        using var model = new RotationModel(context.Backbones.Create(new BackboneRequest
        {
            Architecture = job.Backbone, Weights = job.Weights, Delta = job.Delta, Device = context.Device, Seed = job.Seed,
        }), job.Seed);
        var files = RotationData.FindImages(request.DatasetPath);
        var validationCount = (int)Math.Floor(files.Count * options.ValidationFraction);
        using var train = RotationData.Load(files.Skip(validationCount).ToList(), options.ImageSize, model.Backbone.Preprocessing, context.Device);
        using var validation = validationCount > 0
            ? RotationData.Load(files.Take(validationCount).ToList(), options.ImageSize, model.Backbone.Preprocessing, context.Device) : null;

        // Four rotations per image: a batch of B items holds ⌈B/4⌉ images.
        var imagesPerBatch = Math.Max(1, job.Hyper.BatchSize / 4);
        var n = train.Images.shape[0];
        var loop = new TrainLoop<RotationBatch>
        {
            Parameters = model.TrainableParameters,
            Hyper = job.Hyper,
            StepsPerEpoch = (n + imagesPerBatch - 1) / imagesPerBatch,
            ItemsPerBatch = imagesPerBatch * 4,
            SetTrainMode = model.Train,
            Batches = epoch => Batches(train.Images, imagesPerBatch, job.Seed + epoch),
            Losses = batch => new Dictionary<string, Tensor> { ["rotation"] = nn.functional.cross_entropy(model.Logits(batch.Images), batch.Labels) },
            Validate = validation is null ? null : () => new Dictionary<string, double> { ["accuracy"] = Accuracy(model, validation.Images, imagesPerBatch) },
            Monitor = validation is null ? null : "accuracy",
            State = model,
            CheckpointDir = request.CheckpointDir,
            Resume = request.Resume,
            Progress = request.Progress,
        };
        var outcome = context.Trainer.Fit(loop, ct);

        var metrics = new Dictionary<string, double> { ["steps"] = outcome.Steps };
        if (outcome.History.Count > 0)
        {
            var last = outcome.History[^1];
            foreach (var (k, v) in last.MeanLosses) metrics["loss." + k] = v;
            foreach (var (k, v) in last.Validation) metrics["val." + k] = v;
        }
        var manifest = new PatchManifest
        {
            Architecture = model.Backbone.Base.Architecture, BaseWeights = model.Backbone.Base.Weights,
            BaseWeightsSha256 = model.Backbone.Base.WeightsSha256, Delta = job.Delta, PluginId = Info.Id,
            Task = "rotation", ClassNames = RotationData.ClassNames, Metrics = metrics,
            Properties = new Dictionary<string, string> { ["imageSize"] = options.ImageSize.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
        var patch = context.Patches.Save(job.Name, manifest, model.CheckpointState(), overwrite: true);
        return new TrainResult(patch, metrics, []);
    }

    /// <summary>Shuffled batches (seeded per epoch, so a resumed run sees the same order) of the four rotations.</summary>
    private static IEnumerable<RotationBatch> Batches(Tensor images, int imagesPerBatch, long seed)
    {
        var n = images.shape[0];
        var order = Enumerable.Range(0, (int)n).Select(i => (long)i).ToArray();
        new Random((int)(seed & int.MaxValue)).Shuffle(order);
        for (var start = 0L; start < n; start += imagesPerBatch)
        {
            using var scope = NewDisposeScope();
            var idx = tensor(order[(int)start..(int)Math.Min(n, start + imagesPerBatch)], device: images.device);
            var (x, y) = RotationData.Rotations(images.index_select(0, idx));
            var batch = new RotationBatch(x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
            yield return batch;
        }
    }

    private static double Accuracy(RotationModel model, Tensor images, int imagesPerBatch)
    {
        using var ng = no_grad();
        long correct = 0, total = 0;
        for (var start = 0L; start < images.shape[0]; start += imagesPerBatch)
        {
            using var scope = NewDisposeScope();
            var (x, y) = RotationData.Rotations(images[TensorIndex.Slice(start, start + imagesPerBatch)]);
            correct += model.Logits(x).argmax(1).eq(y).sum().item<long>();
            total += y.shape[0];
        }
        return total == 0 ? 0 : (double)correct / total;
    }

    private static RotationModel Restore(TaskContext context, Patch patch, long seed)
    {
        var m = patch.Manifest;
        if (m.PluginId != "rotation") throw new InvalidDataException($"{patch.Path}: patch of plugin '{m.PluginId}', not 'rotation'.");
        var model = new RotationModel(context.Backbones.Create(new BackboneRequest
        {
            Architecture = m.Architecture, Weights = m.BaseWeights, Delta = m.Delta, Device = context.Device, Seed = seed,
        }), seed);
        try
        {
            using (var scope = NewDisposeScope())
                model.LoadCheckpointState(patch.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.to(context.Device)));
            model.Train(false);
            return model;
        }
        catch { model.Dispose(); throw; }
    }

    private static int ImageSize(Patch patch) =>
        patch.Manifest.Properties.TryGetValue("imageSize", out var s) && int.TryParse(s, out var v) ? v
        : throw new InvalidDataException($"{patch.Path}: manifest has no 'imageSize' property.");

    protected override Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, RotationOptions options, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            using var patch = context.Patches.Load(request.Patch);
            using var model = Restore(context, patch, 0);
            using var data = RotationData.Load(RotationData.FindImages(request.DatasetPath), ImageSize(patch), model.Backbone.Preprocessing, context.Device);
            return new EvaluateResult(new Dictionary<string, double> { ["accuracy"] = Accuracy(model, data.Images, 8), ["images"] = data.Files.Count }, []);
        }, cancellationToken);

    protected override Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, RotationOptions options, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            using var patch = context.Patches.Load(request.Patch);
            using var model = Restore(context, patch, 0);
            using var data = RotationData.Load(request.Inputs, ImageSize(patch), model.Backbone.Preprocessing, context.Device);
            using var scope = NewDisposeScope();
            using var ng = no_grad();
            var probs = nn.functional.softmax(model.Logits(data.Images), 1).cpu();
            var items = new List<Prediction>();
            for (var i = 0; i < request.Inputs.Count; i++)
            {
                var p = probs[i].data<float>().ToArray();
                var best = Array.IndexOf(p, p.Max());
                items.Add(new RotationPrediction(request.Inputs[i], null, int.Parse(RotationData.ClassNames[best], System.Globalization.CultureInfo.InvariantCulture), p[best]));
            }
            return new PredictResult(items);
        }, cancellationToken);
}

/// <summary>The predicted rotation of one image, in degrees, with its probability.</summary>
public sealed record RotationPrediction(string Input, string? RenderedImagePath, int Degrees, float Probability) : Prediction(Input, RenderedImagePath)
{
    public override string Summary => $"rotated {Degrees}° (p={Probability:F2})";
}
