using System.Globalization;
using Microsoft.Extensions.Logging;
using Delta.Abstractions;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Abstractions.Plugins;
using Delta.Plugins.DomainAdapt.Commands;
using Delta.Plugins.DomainAdapt.Data;
using Delta.Plugins.DomainAdapt.Methods;
using Delta.Plugins.DomainAdapt.Models;
using Delta.Plugins.DomainAdapt.Patches;
using Delta.Data.Images;
using Delta.Data.Rendering;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt;

/// <summary>
/// Zero-shot domain adaptation by Δ-patching. <c>train</c> trains the source task (frozen base + source Δ-modules +
/// classifier on source labels), then ADDA adapts a copy of the source Δ-modules on unlabelled target images:
/// the patch holds both Δ sets and the classifier, so the source task is still served exactly (source Δ) and the
/// target domain by the target Δ. The domains are the real digit sets by name (<see cref="DigitDomains"/>), read
/// from the asset cache; the job's dataset path is not used for them.
/// </summary>
public sealed class DomainAdaptPlugin : TaskPlugin<DomainAdaptOptions>, IPluginCommands
{
    public const string PluginId = "domainadapt";

    public override TaskPluginInfo Info { get; } = new(PluginId,
        "Zero-shot domain adaptation (Vanilla, Uniform prior, ADDA) with Δ-patches for the target domain",
        TaskKind.DomainAdaptation, [], [1, 2, 3, 4]);

    public IReadOnlyList<PluginCommand> Commands { get; } = [AdaptTableCommand.Command];

    protected override Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, DomainAdaptOptions o, CancellationToken ct) => Task.Run(() =>
    {
        Validate(o);
        var job = request.Job;
        var seed = o.Seed;
        // This plugin's Δ stages, seed and budget are its options (deltaStages, seed, batchSize, sourceSteps,
        // adaptSteps): say so where the job's own keys ask for something else, rather than ignore them silently.
        // (A job file without a delta section has the default DeltaConfig: nothing asked for, nothing to warn about.)
        if (job.Delta != new DeltaConfig() && job.Delta != new DeltaConfig { Stages = o.DeltaStages })
            context.Logger.LogWarning("{Job}: domainadapt builds Δ({Stages}) from options.deltaStages (default variant, skip BNs); the job's delta section is not used", job.Name, o.DeltaStages);
        if (job.Seed != 0 && job.Seed != o.Seed)
            context.Logger.LogWarning("{Job}: domainadapt seeds with options.seed = {Seed}; the job's seed {JobSeed} is not used", job.Name, o.Seed, job.Seed);
        if (job.Hyper != new TrainingHyperParameters())
            context.Logger.LogWarning("{Job}: domainadapt's budget is options.batchSize / sourceSteps / adaptSteps; the job's hyper section is not used", job.Name);
        using var data = Load(o);
        using var source = DomainEncoder.Create(context.Backbones, job.Backbone, job.Weights, o.DeltaStages, seed, context.Device);
        using var classifier = SourceClassifier.Seeded(source.NumFeatures, 10, seed, context.Device);
        SourceTraining.Train(source, classifier, data.SourceTrain, o.UniformPrior, o.Methods(), seed);
        ct.ThrowIfCancellationRequested();
        var sourceBefore = Evaluation.Accuracy(source, classifier, data.SourceTest);
        var targetBefore = Evaluation.Accuracy(source, classifier, data.TargetTest);
        using var target = source.CloneFor(context.Backbones, job.Backbone, job.Weights, seed);
        using (var unlabelled = data.TargetTrain.WithoutLabels())
        using (var adda = new AddaTrainer(source, target, data.SourceTrain.Images, unlabelled, o.UniformPrior, o.Methods(), seed))
            adda.Run();
        var metrics = new Dictionary<string, double>
        {
            ["source_top1_before"] = sourceBefore,
            ["source_top1_after"] = Evaluation.Accuracy(source, classifier, data.SourceTest),
            ["target_top1_before"] = targetBefore,
            ["target_top1_after"] = Evaluation.Accuracy(target, classifier, data.TargetTest),
        };
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, t) in source.Backbone.DeltaState()) tensors[$"{AdaptPatch.SourceDelta}.{k}"] = t;
        foreach (var (k, t) in target.Backbone.DeltaState()) tensors[$"{AdaptPatch.TargetDelta}.{k}"] = t;
        foreach (var (k, t) in classifier.state_dict()) tensors[$"{AdaptPatch.Head}.{k}"] = t;
        var b = source.Backbone.Base;
        var manifest = new PatchManifest
        {
            Architecture = b.Architecture, BaseWeights = b.Weights, BaseWeightsSha256 = b.WeightsSha256,
            Delta = source.Backbone.Delta, PluginId = PluginId, Task = $"{o.Source}->{o.Target}",
            ClassNames = DigitDomainsClassNames, Metrics = metrics,
            Properties = new Dictionary<string, string>
            {
                ["source"] = o.Source, ["target"] = o.Target,
                ["imageSize"] = o.ImageSize.ToString(CultureInfo.InvariantCulture),
                ["uniformPrior"] = o.UniformPrior ? "true" : "false",
                // The split (DigitDomains.Split): evaluate scores the same held-out test images with these.
                [AdaptPatch.SplitSeed] = seed.ToString(CultureInfo.InvariantCulture),
                [AdaptPatch.TrainPerDomain] = o.TrainPerDomain.ToString(CultureInfo.InvariantCulture),
                [AdaptPatch.TestPerDomain] = o.TestPerDomain.ToString(CultureInfo.InvariantCulture),
            },
        };
        var summary = context.Patches.Save(job.Name, manifest, tensors);
        return new TrainResult(summary, metrics, []);
    }, ct);

    protected override Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, DomainAdaptOptions o, CancellationToken ct) => Task.Run(() =>
    {
        // The domains are the digit sets the patch names, read from the asset cache, and what is scored is their held-out
        // test images: a dataset or another split asked for cannot be scored, and must not look as if it had been.
        if (!string.Equals(request.Split, "test", StringComparison.OrdinalIgnoreCase))
            throw new InputException($"domainadapt scores the held-out test images of the patch's two digit domains; split '{request.Split}' does not exist here (use test).");
        context.Logger.LogWarning("{Patch}: domainadapt scores the digit domains the patch names (from the asset cache); the dataset {Dataset} is not read", request.Patch, request.DatasetPath);
        using var patch = AdaptPatch.Load(context.Patches, context.Backbones, request.Patch, context.Device);
        var p = patch.Manifest.Properties;
        using var sourceAll = DigitDomains.Load(p["source"], patch.ImageSize);
        using var targetAll = DigitDomains.Load(p["target"], patch.ImageSize);
        // The split training used (recorded in the patch); the request's options only for patches saved before that.
        var split = patch.Split ?? new AdaptPatch.DigitSplit(o.Seed, o.TrainPerDomain, o.TestPerDomain);
        if (patch.Split is null)
            context.Logger.LogWarning("{Patch}: the patch records no split; using this request's seed and per-domain counts, which may not be the images its training held out", request.Patch);
        var (sTrain, sTest) = DigitDomains.Split(sourceAll, split.TrainPerDomain, split.TestPerDomain, split.Seed);
        var (tTrain, tTest) = DigitDomains.Split(targetAll, split.TrainPerDomain, split.TestPerDomain, split.Seed);
        sTrain.Dispose(); tTrain.Dispose();
        using (sTest) using (tTest)
        {
            ct.ThrowIfCancellationRequested();
            var metrics = new Dictionary<string, double>
            {
                ["source_top1"] = Evaluation.Accuracy(patch.Source, patch.Classifier, sTest),
                ["target_top1"] = Evaluation.Accuracy(patch.Target, patch.Classifier, tTest),
            };
            return new EvaluateResult(metrics, []);
        }
    }, ct);

    /// <summary>Classifies image files (any size, colour or grey; brought to the patch's input like the training digits:
    /// grey, S x S, 3 equal channels) with the target-domain Δ-modules (options.predictWith = "source" uses the source
    /// task's). Writes one picture per image with its top-k digits under the request's output folder.</summary>
    protected override Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, DomainAdaptOptions o, CancellationToken ct) => Task.Run(() =>
    {
        Validate(o);
        using var patch = AdaptPatch.Load(context.Patches, context.Backbones, request.Patch, context.Device);
        var domain = o.PredictWith.ToLowerInvariant();
        var encoder = patch.Encoder(domain);
        encoder.Backbone.Train(false);
        Directory.CreateDirectory(request.OutputDir);
        var k = Math.Min(request.TopK, patch.ClassNames.Count);
        var items = new List<Prediction>();
        foreach (var (file, stem) in request.Inputs.Zip(request.OutputStems()))
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var rgb = ImageCodec.ReadRgb(file);                                      // [3, H, W]
            var x = DigitDomains.ToInput(rgb.unsqueeze(0), patch.ImageSize).to(context.Device);
            var probs = nn.functional.softmax(patch.Classifier.call(encoder.Features(x)), 1)[0].cpu();
            var (values, indexes) = probs.topk(k);
            var p = values.data<float>().ToArray();
            var idx = indexes.data<long>().ToArray();
            var top = Enumerable.Range(0, k).Select(i => new DigitScore(patch.ClassNames[(int)idx[i]], p[i])).ToList();
            var rendered = Path.Combine(request.OutputDir, stem + $".top{k}.png");
            Charts.LabelledImage(rendered, x[0].cpu(), [$"{domain} Δ", .. top.Select((t, i) => $"{i + 1}. {t.Label}  {t.Probability:P1}")]);
            items.Add(new DigitPrediction(file, rendered, domain, top));
        }
        return new PredictResult(items);
    }, ct);

    private static readonly IReadOnlyList<string> DigitDomainsClassNames = Delta.Data.Datasets.DigitReaders.Digits;

    private static void Validate(DomainAdaptOptions o)
    {
        var problems = o.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems));
    }

    private static PairData Load(DomainAdaptOptions o)
    {
        using var sourceAll = DigitDomains.Load(o.Source, o.ImageSize);
        using var targetAll = DigitDomains.Load(o.Target, o.ImageSize);
        var (sTrain, sTest) = DigitDomains.Split(sourceAll, o.TrainPerDomain, o.TestPerDomain, o.Seed);
        var (tTrain, tTest) = DigitDomains.Split(targetAll, o.TrainPerDomain, o.TestPerDomain, o.Seed);
        return new PairData(sTrain, sTest, tTrain, tTest);
    }

    private sealed record PairData(LabelledImages SourceTrain, LabelledImages SourceTest, LabelledImages TargetTrain, LabelledImages TargetTest) : IDisposable
    {
        public void Dispose() { SourceTrain.Dispose(); SourceTest.Dispose(); TargetTrain.Dispose(); TargetTest.Dispose(); }
    }
}
