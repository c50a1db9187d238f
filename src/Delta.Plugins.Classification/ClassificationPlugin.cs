using Delta.Abstractions;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Data.Images;
using Delta.Data.Loading;
using Delta.Data.Rendering;
using Delta.Plugins.Classification.Adapters;
using Delta.Plugins.Classification.Commands;
using Delta.Plugins.Classification.Data;
using Delta.Plugins.Classification.Metrics;
using Delta.Plugins.Classification.Models;
using Delta.Plugins.Classification.Reports;
using Delta.Plugins.Classification.Training;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification;

/// <summary>
/// Image classification by Δ-patching (paper §2–3): a patch = Δ-modules + a linear head on the shared frozen base.
/// Δ stages 0 in the job = FC-only (head on frozen features). Verbs: demo (the real-data demo), compare, transfer (Bi-Tuning, paper Table 5).
/// </summary>
public sealed class ClassificationPlugin : TaskPlugin<ClassificationOptions>, IPluginCommands
{
    public override TaskPluginInfo Info { get; } = new(ClassifierPatch.PluginId,
        "Image classification by Δ-patching a frozen backbone (single, joint and sequential patching; FC-only and PAINT baselines)",
        TaskKind.Classification, [], [0, 1, 2, 3, 4]);

    public IReadOnlyList<PluginCommand> Commands { get; } = [DemoCommand.Command, CompareCommand.Command, TransferCommand.Command];

    protected override Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, ClassificationOptions o, CancellationToken ct) => Task.Run(() =>
    {
        var job = request.Job;
        var data = DatasetResolver.Load(request.DatasetPath, o, (int)job.Seed);
        // With one class the softmax is 1 and the cross entropy 0 from the first step: nothing would train, and the
        // patch would score 100 % on anything.
        if (data.ClassNames.Count < 2)
            throw new InputException($"{request.DatasetPath}: only one class ({string.Join(", ", data.ClassNames)}); classification needs at least two.");
        context.Logger.LogInformation("{Task}: {Train} train, {Val} val, {Test} test images, {Classes} classes", data.Name, data.TrainIndices.Count, data.ValIndices.Count, data.TestIndices.Count, data.ClassNames.Count);
        var backboneRequest = new BackboneRequest { Architecture = job.Backbone, Weights = job.Weights, Delta = job.Delta, Device = context.Device, Seed = job.Seed };
        IDeltaBackbone backbone;
        if (o.Adapter is not null)
        {
            if (job.Delta.Stages != 0) throw new InputException($"options.adapter '{o.Adapter}' replaces Δ: set delta.stages to 0 (got {job.Delta.Stages}).");
            backbone = AdaptedBackbone.Create(context.Backbones, backboneRequest, AdapterKinds.Parse(o.Adapter));
        }
        else backbone = context.Backbones.Create(backboneRequest);
        using var model = new ClassifierModel(backbone, data.ClassNames.Count);
        // Seeded by the job (not the process-global generator): a run is reproducible, and an interrupted run resumed
        // from CheckpointDir ends exactly where the uninterrupted one does.
        model.ResetHead(job.Seed);
        var loaders = DataLoaders.For(data, backbone, o.ImageSize, job.Hyper.BatchSize, (int)job.Seed, o.HorizontalFlip);
        var outcome = PatchTraining.Fit(context.Trainer, model, loaders, job.Hyper, ct, request.Progress, request.CheckpointDir, request.Resume);
        model.SetTrainMode(false);
        var test = Evaluation.Run(loaders.Test.Epoch(0), model.Logits);
        var metrics = new Dictionary<string, double>
        {
            ["top1"] = test.Top1, ["trainable_parameters"] = model.TrainableParameterCount,
            ["frozen_parameters"] = backbone.FrozenParameterCount, ["steps"] = outcome.Steps,
        };
        if (outcome.History.Count > 0 && outcome.History[^1].Validation.TryGetValue("top1", out var val)) metrics["val_top1"] = val;
        var artifacts = WritePictures(request.OutputDir, data, test, outcome.History.Select(h => h.MeanLosses.GetValueOrDefault("ce")).ToList());
        var patch = ClassifierPatch.Save(context.Patches, job.Name, model, data, metrics, o.ImageSize);
        metrics["patch_bytes"] = patch.SizeBytes;
        return new TrainResult(patch, metrics, artifacts);
    }, ct);

    protected override Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, ClassificationOptions o, CancellationToken ct) => Task.Run(() =>
    {
        var (model, manifest) = ClassifierPatch.Load(context.Patches, context.Backbones, request.Patch, context.Device);
        using (model)
        {
            var size = ClassifierPatch.ImageSize(manifest, request.Patch);
            // The split the patch was trained with (seed, fractions, caps), so that "test" means the images training
            // held out; the request's own split options apply only to patches saved before splits were recorded.
            var recorded = DatasetSplit.FromManifest(manifest, request.Patch);
            var options = new ClassificationOptions
            {
                ImageSize = size, Format = o.Format, MaxTestPerClass = o.MaxTestPerClass, TestFraction = o.TestFraction, ValidationFraction = o.ValidationFraction,
                SkipUnreadable = o.SkipUnreadable, TaskName = o.TaskName,
            };
            if (recorded is null)
                context.Logger.LogWarning("{Patch}: the patch records no dataset split; splitting with seed 0 and this request's fractions, which may not be the images its training held out", request.Patch);
            var data = recorded is null ? DatasetResolver.Load(request.DatasetPath, options, seed: 0)
                : DatasetResolver.Load(request.DatasetPath, recorded.ApplyTo(options), recorded.Seed);
            if (!data.ClassNames.SequenceEqual(manifest.ClassNames))
                throw new InvalidDataException($"{request.DatasetPath}: classes [{string.Join(", ", data.ClassNames)}] differ from the patch's [{string.Join(", ", manifest.ClassNames)}].");
            var (ds, ids) = request.Split switch
            {
                "test" => (data.Test, data.TestIndices),
                "val" => (data.Train, data.ValIndices),
                "train" => (data.Train, data.TrainIndices),
                var s => throw new InputException($"--split: unknown split '{s}'. Valid: test, val, train."),
            };
            var loader = new BatchLoader(ds, ids, 256, size, model.Backbone.Preprocessing, context.Device);
            var eval = Evaluation.Run(loader.Epoch(0), model.Logits);
            var artifacts = WritePictures(request.OutputDir, data, eval, null);
            return new EvaluateResult(new Dictionary<string, double> { ["top1"] = eval.Top1, ["images"] = eval.Truth.Length }, artifacts);
        }
    }, ct);

    protected override Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, ClassificationOptions o, CancellationToken ct) => Task.Run(() =>
    {
        var (model, manifest) = ClassifierPatch.Load(context.Patches, context.Backbones, request.Patch, context.Device);
        using (model)
        {
            var size = ClassifierPatch.ImageSize(manifest, request.Patch);
            var items = new List<Prediction>();
            foreach (var (file, stem) in request.Inputs.Zip(request.OutputStems()))
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var rgb = ImageCodec.ReadRgb(file);
                var x = nn.functional.interpolate(rgb.unsqueeze(0), [size, size], mode: InterpolationMode.Bilinear, align_corners: false).clamp_(0, 1).to(context.Device);
                var input = model.Backbone.Preprocessing.Apply(x);
                var probs = nn.functional.softmax(model.Logits(input), 1)[0].cpu();
                var k = Math.Min(request.TopK, manifest.ClassNames.Count);
                var (values, indexes) = probs.topk(k);
                var (topIndexes, topValues) = (indexes.data<long>().ToArray(), values.data<float>().ToArray());   // already on the host
                var top = Enumerable.Range(0, k).Select(i => new LabelScore(manifest.ClassNames[(int)topIndexes[i]], topValues[i])).ToList();
                var rendered = Path.Combine(request.OutputDir, stem + ".top5.png");
                Charts.LabelledImage(rendered, rgb, top.Select((t, i) => $"{i + 1}. {t.Label}  {t.Probability:P1}").ToList());
                // Δ patches: this image's gate matrices per stage, beside the image (paper Figs 3–6).
                var gateMaps = model.Backbone.DeltaStages.Count == 0 ? null
                    : GateMaps.Write(request.OutputDir, stem, rgb, GateMaps.ForImage(model.Backbone, input), $"{Path.GetFileName(file)} → {top[0].Label}");
                items.Add(new ClassificationPrediction(file, rendered, top, gateMaps));
            }
            return new PredictResult(items);
        }
    }, ct);

    private static List<string> WritePictures(string dir, TaskData data, Evaluation eval, IReadOnlyList<double>? losses)
    {
        Directory.CreateDirectory(dir);
        var files = new List<string>();
        var confusion = Path.Combine(dir, "confusion.png");
        Charts.ConfusionMatrix(confusion, $"{data.Name}: confusion (top-1 {eval.Top1:P1})", ClassificationMetrics.ConfusionMatrix(eval.Predicted, eval.Truth, data.ClassNames.Count), data.ClassNames);
        files.Add(confusion);
        if (losses is { Count: > 0 })
        {
            var curve = Path.Combine(dir, "training-loss.png");
            Charts.Lines(curve, $"{data.Name}: training loss", "cross entropy", [("train", losses)]);
            files.Add(curve);
        }
        return files;
    }
}
