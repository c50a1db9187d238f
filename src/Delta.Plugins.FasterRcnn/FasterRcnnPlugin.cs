using System.Globalization;
using Delta.Abstractions;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Data.Images;
using Delta.Data.Rendering;
using Delta.Data.Voc;
using Delta.Plugins.FasterRcnn.Commands;
using Delta.Plugins.FasterRcnn.Data;
using Delta.Plugins.FasterRcnn.Metrics;
using Delta.Plugins.FasterRcnn.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn;

/// <summary>
/// Object detection (Faster R-CNN with FPN, or the C4 head, paper Table 7) on a frozen Δ-backbone, VOC layout; options.mode
/// picks what trains besides the heads (<see cref="TrainingMode"/>: Δ, nothing, or the whole backbone copy). train: every
/// <see cref="FasterRcnnOptions.TrainYears"/> × <see cref="FasterRcnnOptions.TrainSplit"/>, named losses from the model,
/// then VOC AP on the test split (11-point "mAP_11pt" and area "mAP_area") and comp4 result files; the patch holds Δ
/// ("delta.*"; for "finetune" the whole backbone copy, "delta.base.*") and the detector heads ("head.*"), the manifest
/// everything needed to rebuild them (mode, head, sizes).
/// evaluate: the same metrics and files for a saved patch. predict: boxes with class names and scores drawn per image.
/// </summary>
public sealed class FasterRcnnPlugin : TaskPlugin<FasterRcnnOptions>, IPluginCommands
{
    public const string Id = "fasterrcnn";

    public override TaskPluginInfo Info { get; } = new(Id,
        "Faster R-CNN (FPN or C4 head) object detection (VOC layout) on a frozen Δ-backbone",
        // Paper Table 7 uses ResNet-18/34; resnet18_cntk is the one with ImageNet weights available offline.
        TaskKind.Detection, ["resnet18", "resnet34", "resnet50", "resnet101", "resnet18_cntk", "tiny_resnet"], [0, 1, 2, 4]);

    public IReadOnlyList<PluginCommand> Commands { get; } = [MakeVocCommand.Command];

    protected override Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, FasterRcnnOptions options, CancellationToken cancellationToken)
    {
        var job = request.Job;
        var train = VocDetectionReader.Read(options.TrainYears.Select(y => (YearDir(request.DatasetPath, y), options.TrainSplit))).Images;
        if (train.Count == 0) throw new InvalidDataException($"No training images in {request.DatasetPath} for years [{string.Join(", ", options.TrainYears)}], split '{options.TrainSplit}'.");
        var mode = TrainingModes.Parse(options.Mode);
        var settings = Settings(options);
        // Under the default generator's lock: a job starting beside this one (another device of the host) cannot draw in between.
        var (backbone, model) = DefaultGenerator.SeededBuild(job.Seed,
            () => context.Backbones.Create(TrainingModes.Request(mode, job.Backbone, job.Weights, job.Delta, context.Device, job.Seed)),
            built => new Model.FasterRcnn(built, settings));
        using var ownedBackbone = backbone;
        using var ownedModel = model;
        var transform = new DetectionTransform(options.MinSize, options.MaxSize, options.HorizontalFlip);
        var loader = new DetectionLoader(train, transform, backbone.Preprocessing, context.Device);
        DetectorTraining.Fit(context.Trainer, model, loader, job.Hyper, unchecked((int)job.Seed), progress: request.Progress,
            checkpointDir: request.CheckpointDir, resume: request.Resume, cancellationToken: cancellationToken);

        var (metrics, files) = EvaluateAndWrite(model, backbone, YearDir(request.DatasetPath, options.TestYear), options.TestSplit, options, request.OutputDir);
        var manifest = new PatchManifest
        {
            Architecture = backbone.Base.Architecture, BaseWeights = backbone.Base.Weights, BaseWeightsSha256 = backbone.Base.WeightsSha256,
            Delta = backbone.Delta, PluginId = Id, Task = job.Name, ClassNames = VocClasses.Names, Metrics = metrics,
            Properties = ManifestProperties(options),
        };
        var summary = context.Patches.Save(job.Name, manifest, new DetectorState(model).CheckpointState());
        return Task.FromResult(new TrainResult(summary, metrics, files));
    }

    protected override Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, FasterRcnnOptions options, CancellationToken cancellationToken)
    {
        using var loaded = LoadPatched(context, request.Patch, options);
        var (metrics, files) = EvaluateAndWrite(loaded.Model, loaded.Backbone, YearDir(request.DatasetPath, options.TestYear), request.Split, loaded.Options, request.OutputDir);
        return Task.FromResult(new EvaluateResult(metrics, files));
    }

    protected override Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, FasterRcnnOptions options, CancellationToken cancellationToken)
    {
        using var loaded = LoadPatched(context, request.Patch, options);
        var model = loaded.Model;
        model.eval();
        var loader = new DetectionLoader([], new DetectionTransform(loaded.Options.MinSize, loaded.Options.MaxSize), loaded.Backbone.Preprocessing, context.Device);
        Directory.CreateDirectory(request.OutputDir);
        var items = new List<Prediction>();
        foreach (var (input, stem) in request.Inputs.Zip(request.OutputStems()))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var rgb = ImageCodec.ReadRgb(input); // [3, H, W] in [0, 1], drawn on at its own size
            // The loader resizes, normalizes and pads exactly as in training/evaluation; a file it cannot read fails there, named.
            using var batch = loader.Load([new VocAnnotation(Path.GetFileNameWithoutExtension(input), input, (int)rgb.shape[2], (int)rgb.shape[1], [])], null, false);
            var det = model.Detect(batch.Images, batch.Sizes)[0];
            var scale = batch.Scales[0];
            var boxes = HostArrays.ToArray<float>(det.Boxes / scale);
            var scores = HostArrays.ToArray<float>(det.Scores);
            var labels = HostArrays.ToArray<long>(det.Labels);
            var kept = new List<DetectedBox>();
            for (int k = 0; k < scores.Length; k++)
                if (scores[k] >= loaded.Options.DrawThreshold)
                    kept.Add(new DetectedBox(ClassName(loaded.ClassNames, (int)labels[k]), (int)labels[k], scores[k], boxes[4 * k], boxes[4 * k + 1], boxes[4 * k + 2], boxes[4 * k + 3]));
            var rendered = Path.Combine(request.OutputDir, stem + "_boxes.png");
            Charts.Boxes(rendered, rgb, kept.Select(b => ((float)b.X1, (float)b.Y1, (float)b.X2, (float)b.Y2,
                $"{b.ClassName} {b.Score.ToString("F2", CultureInfo.InvariantCulture)}", b.Label)).ToList());
            items.Add(new DetectionPrediction(input, rendered, kept));
        }
        return Task.FromResult(new PredictResult(items));
    }

    /// <summary>VOC AP on one split (difficult objects ignored, IoU 0.5) and the comp4 result files in <paramref name="outputDir"/>.</summary>
    private static (Dictionary<string, double> Metrics, IReadOnlyList<string> Files) EvaluateAndWrite(Model.FasterRcnn model, IDeltaBackbone backbone,
        string yearDir, string split, FasterRcnnOptions options, string outputDir)
    {
        var test = VocDetectionReader.Read(yearDir, split).Images;
        if (test.Count == 0) throw new InvalidDataException($"No images in {yearDir} split '{split}'.");
        var loader = new DetectionLoader(test, new DetectionTransform(options.MinSize, options.MaxSize), backbone.Preprocessing, backbone.Device);
        var (ap, detections) = DetectionEvaluator.Run(model, loader, test, options.EvalBatchSize);
        Directory.CreateDirectory(outputDir);
        var files = VocResultsWriter.Write(outputDir, detections, split);
        var metrics = new Dictionary<string, double> { ["mAP_11pt"] = ap.MeanAp11Point, ["mAP_area"] = ap.MeanApArea };
        foreach (var (label, value) in ap.ApArea) metrics[$"AP_area/{ClassName(VocClasses.Names, label)}"] = value;
        return (metrics, files);
    }

    private static string YearDir(string devkit, string year)
    {
        var dir = Path.Combine(devkit, "VOC" + year);
        // The user's dataset path is wrong (VOC2007 itself, an image folder): bad input, not a failure.
        return Directory.Exists(dir) ? dir : throw new InputException($"VOC year folder not found: {dir} (the dataset must be a VOCdevkit folder).");
    }

    private static string ClassName(IReadOnlyList<string> names, int label) =>
        label >= 1 && label <= names.Count ? names[label - 1] : label.ToString(CultureInfo.InvariantCulture);

    public static DetectorSettings Settings(FasterRcnnOptions o) => new()
    {
        Head = o.ParseHead(), Stages = o.Stages.ToList(), FpnChannels = o.FpnChannels, AnchorSizes = o.AnchorSizes.ToList(), RepresentationSize = o.RepresentationSize,
        NumClasses = VocClasses.Names.Count,
        Rpn = new RpnSettings(BatchSizePerImage: o.RpnBatchSizePerImage),
        RoiHeads = new RoiHeadSettings(BatchSizePerImage: o.RoiBatchSizePerImage, ScoreThreshold: o.ScoreThreshold, DetectionsPerImage: o.DetectionsPerImage),
    };

    /// <summary>What rebuilds the heads exactly: architecture settings and the input resize they were trained at.</summary>
    private static Dictionary<string, string> ManifestProperties(FasterRcnnOptions o) => new()
    {
        ["mode"] = TrainingModes.Name(TrainingModes.Parse(o.Mode)),
        // A fine-tuned "patch" carries a whole backbone copy: say so where any tool reading the manifest sees it.
        ["zeroDrop"] = TrainingModes.Parse(o.Mode) == TrainingMode.FineTune ? "false" : "true",
        ["head"] = o.Head.ToLowerInvariant(),
        ["stages"] = string.Join(",", o.Stages),
        ["fpnChannels"] = o.FpnChannels.ToString(CultureInfo.InvariantCulture),
        ["anchorSizes"] = string.Join(",", o.AnchorSizes.Select(s => s.ToString("R", CultureInfo.InvariantCulture))),
        ["representationSize"] = o.RepresentationSize.ToString(CultureInfo.InvariantCulture),
        ["numClasses"] = VocClasses.Names.Count.ToString(CultureInfo.InvariantCulture),
        ["minSize"] = o.MinSize.ToString(CultureInfo.InvariantCulture),
        ["maxSize"] = o.MaxSize.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Rebuilds backbone + heads from a patch's manifest (the request's options give only the test-time
    /// thresholds) and loads its tensors strictly; a patch for another base is refused by the store.</summary>
    private static LoadedModel LoadPatched(TaskContext context, string patchName, FasterRcnnOptions requestOptions)
    {
        var summary = context.Patches.Inspect(patchName);
        var manifest = summary.Manifest;
        if (manifest.PluginId != Id) throw new PatchException(PatchErrorKind.Incompatible, summary.Path, $"patch belongs to plugin '{manifest.PluginId}', not '{Id}'.");
        var properties = new ManifestProperties(manifest, summary.Path, "Faster R-CNN");
        string Property(string key) => properties.String(key);
        int Int(string key) => properties.Int(key);
        if (Int("numClasses") != VocClasses.Names.Count)
            throw new PatchException(PatchErrorKind.Incompatible, summary.Path, $"patch has {Int("numClasses")} classes; this plugin detects the {VocClasses.Names.Count} VOC classes.");
        var options = new FasterRcnnOptions
        {
            TrainYears = requestOptions.TrainYears, TrainSplit = requestOptions.TrainSplit, TestYear = requestOptions.TestYear, TestSplit = requestOptions.TestSplit,
            // Patches written before the C4 option have no "head": they are FPN detectors.
            Head = manifest.Properties.TryGetValue("head", out var head) ? head : "fpn",
            Stages = Property("stages").Split(','), FpnChannels = Int("fpnChannels"),
            AnchorSizes = properties.Doubles("anchorSizes").ToList(),
            RepresentationSize = Int("representationSize"), MinSize = Int("minSize"), MaxSize = Int("maxSize"),
            ScoreThreshold = requestOptions.ScoreThreshold, DetectionsPerImage = requestOptions.DetectionsPerImage,
            DrawThreshold = requestOptions.DrawThreshold, EvalBatchSize = requestOptions.EvalBatchSize,
        };
        if (!FasterRcnnOptions.HeadNames.ContainsKey(options.Head))
            throw new PatchException(PatchErrorKind.Incompatible, summary.Path, $"unknown Faster R-CNN head '{options.Head}'.");
        // Patches written before modes existed have no "mode": theirs follows from the Δ stages.
        var mode = manifest.Properties.TryGetValue("mode", out var modeName)
            ? TrainingModes.TryParse(modeName, out var m) ? m : throw new PatchException(PatchErrorKind.Incompatible, summary.Path, $"unknown Faster R-CNN mode '{modeName}'.")
            : manifest.Delta.Stages > 0 ? TrainingMode.Delta : TrainingMode.Frozen;
        options.Mode = TrainingModes.Name(mode);
        var backbone = context.Backbones.Create(TrainingModes.Request(mode, manifest.Architecture, manifest.BaseWeights, manifest.Delta, context.Device, seed: 0));
        try
        {
            var model = new Model.FasterRcnn(backbone, Settings(options));
            using var patch = context.Patches.Load(patchName, backbone.Base);
            new DetectorState(model).LoadCheckpointState(patch.Tensors);
            return new LoadedModel(backbone, model, options, manifest.ClassNames.Count > 0 ? manifest.ClassNames : VocClasses.Names);
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    private sealed record LoadedModel(IDeltaBackbone Backbone, Model.FasterRcnn Model, FasterRcnnOptions Options, IReadOnlyList<string> ClassNames) : IDisposable
    {
        public void Dispose() { Model.Dispose(); Backbone.Dispose(); }
    }
}
