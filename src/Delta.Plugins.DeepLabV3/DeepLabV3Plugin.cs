using System.Globalization;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Data.Images;
using Delta.Data.Voc;
using Delta.Plugins.DeepLabV3.Data;
using Delta.Plugins.DeepLabV3.Losses;
using Delta.Plugins.DeepLabV3.Metrics;
using Delta.Plugins.DeepLabV3.Model;
using Delta.Plugins.DeepLabV3.Training;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3;

/// <summary>
/// Semantic segmentation (DeepLab-V3, paper Table 7) on a frozen, dilated Δ-backbone. train: VOC split
/// <see cref="DeepLabV3Options.TrainSplit"/>, losses "seg" (+ "aux"), validation mIoU per epoch, in one of the
/// <see cref="SegmentationTrainingMode"/>s; the patch holds the backbone's task state ("delta.*": Δ weights, or the
/// whole fine-tuned copy in mode finetune) and both heads ("head.*"). evaluate: full-resolution mIoU / per-class IoU / pixel accuracy on
/// the request's split, predictions as palette PNGs and overlays. predict: palette PNG + overlay per image.
/// </summary>
public sealed class DeepLabV3Plugin : TaskPlugin<DeepLabV3Options>
{
    public const string Id = "deeplabv3";

    public override TaskPluginInfo Info { get; } = new(Id,
        "DeepLab-V3 semantic segmentation (ASPP, VOC layout) on a dilated, frozen Δ-backbone",
        TaskKind.Segmentation, ["resnet50", "resnet101", "tiny_bottleneck"], [0, 1, 2, 4]);

    protected override Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, DeepLabV3Options options, CancellationToken cancellationToken)
    {
        var job = request.Job;
        var mode = options.ParseMode();
        // The split lists (every listed file checked) before the backbone: a broken dataset fails in seconds, not after loading a ResNet.
        var trainSplit = TrainSplitFor(request.DatasetPath, options);
        var train = new VocSegmentationDataset(request.DatasetPath, trainSplit, options.NumClasses);
        var val = new VocSegmentationDataset(request.DatasetPath, options.ValSplit, options.NumClasses);
        if (trainSplit == VocSegmentationReader.TrainAug) CheckDisjoint(train, val);
        context.Logger.LogInformation("DeepLab-V3: training on split '{Split}' ({Count} images), validating on '{Val}' ({ValCount}).", trainSplit, train.Count, val.Split, val.Count);
        var backboneRequest = SegmentationBackboneRequest.For(mode, job.Backbone, job.Weights, job.Delta, options.OutputStride, context.Device, job.Seed);
        if (mode != SegmentationTrainingMode.Delta && job.Delta.Stages > 0)
            context.Logger.LogInformation("DeepLab-V3 mode '{Mode}' trains without Δ-modules; the job's delta section (stages {Stages}) is not used.",
                SegmentationTrainingModes.Name(mode), job.Delta.Stages);
        if (mode == SegmentationTrainingMode.FineTune)
            context.Logger.LogWarning("DeepLab-V3 mode 'finetune' is the full fine-tuning baseline: it trains a private copy of the base, has no zero-drop guarantee, and its patch holds the whole backbone.");
        // Under the default generator's lock: a job starting beside this one (another device of the host) cannot draw in between.
        var (backbone, model) = DefaultGenerator.SeededBuild(job.Seed, () => context.Backbones.Create(backboneRequest),
            built => new DeepLabV3Model(built, options.NumClasses, options.OutputStride, options.HeadChannels, options.AuxiliaryHead, job.Seed));
        using var ownedBackbone = backbone;
        using var ownedModel = model;
        var batches = new SegmentationBatches(train, backbone.Preprocessing, context.Device, job.Hyper.BatchSize,
            options.CropSize, options.MinScale, options.MaxScale, options.Flip, job.Seed);
        var auxWeight = options.AuxLossWeight;

        var loop = new TrainLoop<SegmentationBatch>
        {
            Parameters = model.TrainableParameters,
            Losses = batch => Losses(model, batch, auxWeight),
            Batches = batches.Epoch,
            Hyper = job.Hyper,
            StepsPerEpoch = batches.BatchesPerEpoch,
            SetTrainMode = model.Train,
            Validate = () => ScoresToMetrics(SegmentationEvaluator.Evaluate(model, val, backbone.Preprocessing, options.ValidationImages, cancellationToken: cancellationToken)),
            Monitor = "mIoU",
            State = new HeadAndDeltaState(model),
            Generators = [model.DropoutGenerator, .. backbone.Generators],
            CheckpointDir = request.CheckpointDir,
            Resume = request.Resume,
            Progress = request.Progress,
        };
        context.Trainer.Fit(loop, cancellationToken);

        // The patch's recorded score is over the whole validation split (validationImages caps the per-epoch checks
        // only), so that it is what evaluate reports for the same split.
        var scores = SegmentationEvaluator.Evaluate(model, val, backbone.Preprocessing, cancellationToken: cancellationToken);
        var metrics = ScoresToMetrics(scores);
        metrics["images"] = val.Count;
        var manifest = new PatchManifest
        {
            Architecture = backbone.Base.Architecture, BaseWeights = backbone.Base.Weights, BaseWeightsSha256 = backbone.Base.WeightsSha256,
            Delta = backbone.Delta, PluginId = Id, Task = job.Name,
            ClassNames = options.NumClasses == VocClasses.SegmentationNames.Count ? VocClasses.SegmentationNames.ToList() : Enumerable.Range(0, options.NumClasses).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList(),
            Metrics = metrics,
            Properties = new Dictionary<string, string>
            {
                ["numClasses"] = options.NumClasses.ToString(CultureInfo.InvariantCulture),
                ["outputStride"] = options.OutputStride.ToString(CultureInfo.InvariantCulture),
                ["headChannels"] = options.HeadChannels.ToString(CultureInfo.InvariantCulture),
                ["auxiliaryHead"] = options.AuxiliaryHead ? "true" : "false",
                ["mode"] = SegmentationTrainingModes.Name(mode),
            },
        };
        var summary = context.Patches.Save(job.Name, manifest, new HeadAndDeltaState(model).CheckpointState());
        return Task.FromResult(new TrainResult(summary, metrics, []));
    }

    /// <summary>The split a run trains on: <see cref="DeepLabV3Options.TrainSplit"/>, except that "train" becomes the
    /// SBD-augmented "train_aug" where the dataset has it and <see cref="DeepLabV3Options.UseSbdTrainAug"/> is on.</summary>
    public static string TrainSplitFor(string datasetPath, DeepLabV3Options options) =>
        options.UseSbdTrainAug && options.TrainSplit == "train" && VocSegmentationReader.HasTrainAug(VocSegmentationReader.ResolveYearFolder(datasetPath))
            ? VocSegmentationReader.TrainAug
            : options.TrainSplit;

    /// <summary>The SBD list of the DeepLab setups leaves out the VOC val images; one that does not would score the model on its training images.</summary>
    private static void CheckDisjoint(VocSegmentationDataset train, VocSegmentationDataset val)
    {
        var shared = train.Ids.Intersect(val.Ids, StringComparer.Ordinal).ToList();
        if (shared.Count > 0)
            throw new VocFormatException(VocSegmentationReader.SplitListPath(train.Root, train.Split),
                $"shares {shared.Count} image(s) with the validation split '{val.Split}' (e.g. {string.Join(", ", shared.Take(3))}); " +
                "remove them from the list, or set options.useSbdTrainAug = false.");
    }

    /// <summary>The named losses for the host Trainer: "seg" on the main head, "aux" (weighted) on the FCN head.</summary>
    public static IReadOnlyDictionary<string, Tensor> Losses(DeepLabV3Model model, SegmentationBatch batch, double auxWeight)
    {
        var output = model.Forward(batch.Images, withAux: auxWeight > 0);
        var losses = new Dictionary<string, Tensor> { ["seg"] = SegmentationLoss.CrossEntropy(output.Logits, batch.Labels) };
        if (output.AuxLogits is { } aux) losses["aux"] = SegmentationLoss.CrossEntropy(aux, batch.Labels) * auxWeight;
        return losses;
    }

    protected override Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, DeepLabV3Options options, CancellationToken cancellationToken)
    {
        using var loaded = LoadPatched(context, request.Patch);
        var dataset = new VocSegmentationDataset(request.DatasetPath, request.Split, loaded.Model.NumClasses);
        var predictions = Path.Combine(request.OutputDir, "predictions");
        var overlays = Path.Combine(request.OutputDir, "overlays");
        var scores = SegmentationEvaluator.Evaluate(loaded.Model, dataset, loaded.Backbone.Preprocessing, 0, predictions, overlays, options.Overlays, cancellationToken);
        var metrics = ScoresToMetrics(scores);
        metrics["images"] = dataset.Count;
        var names = loaded.ClassNames;
        var table = Path.Combine(request.OutputDir, "class_iou.tsv");
        File.WriteAllLines(table, new[] { "class\tIoU" }.Concat(scores.ClassIoU.Select((v, i) =>
            $"{(i < names.Count ? names[i] : i.ToString(CultureInfo.InvariantCulture))}\t{(double.IsNaN(v) ? "absent" : v.ToString("F4", CultureInfo.InvariantCulture))}")));
        return Task.FromResult(new EvaluateResult(metrics, [predictions, overlays, table]));
    }

    protected override Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, DeepLabV3Options options, CancellationToken cancellationToken)
    {
        using var loaded = LoadPatched(context, request.Patch);
        loaded.Model.Train(false);
        var items = new List<Prediction>();
        foreach (var (input, stem) in request.Inputs.Zip(request.OutputStems()))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var image = ImageCodec.ReadRgb(input);
            var prediction = SegmentationEvaluator.Predict(loaded.Model, loaded.Backbone.Preprocessing, image);
            // "_labels.png", not ".png": predicting x.png into its own folder must not write over the image itself.
            var labelPng = Path.Combine(request.OutputDir, stem + "_labels.png");
            var overlay = Path.Combine(request.OutputDir, stem + "_overlay.png");
            SegmentationEvaluator.WriteLabelPng(labelPng, prediction);
            SegmentationRendering.WriteOverlay(overlay, image, prediction);
            var counts = prediction.reshape(-1).bincount(null, minlength: loaded.Model.NumClasses).cpu().data<long>().ToArray();
            double total = prediction.numel();
            var shares = counts.Select((c, i) => (c, i)).Where(t => t.c > 0)
                .ToDictionary(t => t.i < loaded.ClassNames.Count ? loaded.ClassNames[t.i] : t.i.ToString(CultureInfo.InvariantCulture), t => t.c / total);
            items.Add(new SegmentationPrediction(input, labelPng, overlay, shares));
        }
        return Task.FromResult(new PredictResult(items));
    }

    private static Dictionary<string, double> ScoresToMetrics(SegmentationScores s) => new()
    {
        ["mIoU"] = s.MeanIoU,
        ["pixelAccuracy"] = s.PixelAccuracy,
    };

    /// <summary>Rebuilds backbone + heads from a patch's manifest and loads its tensors strictly (patch for another base: refused by the store).</summary>
    private static LoadedModel LoadPatched(TaskContext context, string patchName)
    {
        var summary = context.Patches.Inspect(patchName);
        var manifest = summary.Manifest;
        if (manifest.PluginId != Id) throw new PatchException(PatchErrorKind.Incompatible, summary.Path, $"patch belongs to plugin '{manifest.PluginId}', not '{Id}'.");
        var properties = new ManifestProperties(manifest, summary.Path, "DeepLab-V3");
        int Property(string key) => properties.Int(key);
        // Patches written before modes existed have no "mode": Δ stages tell delta from frozen.
        var modeName = manifest.Properties.GetValueOrDefault("mode") ?? (manifest.Delta.Stages > 0 ? "delta" : "frozen");
        if (!SegmentationTrainingModes.TryParse(modeName, out var mode))
            throw new PatchException(PatchErrorKind.Incompatible, summary.Path, $"unknown DeepLab-V3 mode '{modeName}' (valid: {string.Join(", ", SegmentationTrainingModes.Names.Keys)}).");
        var request = SegmentationBackboneRequest.For(mode, manifest.Architecture, manifest.BaseWeights, manifest.Delta, Property("outputStride"), context.Device, seed: 0);
        var backbone = context.Backbones.Create(request);
        try
        {
            var model = new DeepLabV3Model(backbone, Property("numClasses"), Property("outputStride"), Property("headChannels"),
                manifest.Properties.GetValueOrDefault("auxiliaryHead") == "true");
            using var patch = context.Patches.Load(patchName, backbone.Base);
            new HeadAndDeltaState(model).LoadCheckpointState(patch.Tensors);
            return new LoadedModel(backbone, model, manifest.ClassNames);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    private sealed record LoadedModel(IDeltaBackbone Backbone, DeepLabV3Model Model, IReadOnlyList<string> ClassNames) : IDisposable
    {
        public void Dispose() { Model.Dispose(); Backbone.Dispose(); }
    }
}
