using System.Globalization;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Abstractions.Plugins;
using Delta.Plugins.DomainAdapt.Commands;
using Delta.Plugins.DomainAdapt.Data;
using Delta.Plugins.DomainAdapt.Methods;
using Delta.Plugins.DomainAdapt.Models;
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
    private const string SourceDelta = "source_delta";
    private const string TargetDelta = "target_delta";
    private const string Head = "classifier";

    public override TaskPluginInfo Info { get; } = new(PluginId,
        "Zero-shot domain adaptation (Vanilla, Uniform prior, ADDA) with Δ-patches for the target domain",
        TaskKind.DomainAdaptation, [], [1, 2, 3, 4]);

    public IReadOnlyList<PluginCommand> Commands { get; } = [AdaptTableCommand.Command];

    protected override Task<TrainResult> TrainAsync(TaskContext context, TrainRequest request, DomainAdaptOptions o, CancellationToken ct) => Task.Run(() =>
    {
        Validate(o);
        var job = request.Job;
        var seed = o.Seed;
        using var data = Load(o);
        using var source = DomainEncoder.Create(context.Backbones, job.Backbone, job.Weights, o.DeltaStages, seed, context.Device);
        manual_seed(seed);
        using var classifier = new SourceClassifier(source.NumFeatures, 10);
        classifier.to(context.Device);
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
        foreach (var (k, t) in source.Backbone.DeltaState()) tensors[$"{SourceDelta}.{k}"] = t;
        foreach (var (k, t) in target.Backbone.DeltaState()) tensors[$"{TargetDelta}.{k}"] = t;
        foreach (var (k, t) in classifier.state_dict()) tensors[$"{Head}.{k}"] = t;
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
            },
        };
        var summary = context.Patches.Save(job.Name, manifest, tensors);
        return new TrainResult(summary, metrics, []);
    }, ct);

    protected override Task<EvaluateResult> EvaluateAsync(TaskContext context, EvaluateRequest request, DomainAdaptOptions o, CancellationToken ct) => Task.Run(() =>
    {
        using var patch = context.Patches.Load(request.Patch);
        var m = patch.Manifest;
        if (m.PluginId != PluginId) throw new InvalidDataException($"{patch.Path}: a patch of plugin '{m.PluginId}', not '{PluginId}'.");
        var size = int.Parse(m.Properties["imageSize"], CultureInfo.InvariantCulture);
        using var sourceAll = DigitDomains.Load(m.Properties["source"], size);
        using var targetAll = DigitDomains.Load(m.Properties["target"], size);
        var (sTrain, sTest) = DigitDomains.Split(sourceAll, o.TrainPerDomain, o.TestPerDomain, o.Seed);
        var (tTrain, tTest) = DigitDomains.Split(targetAll, o.TrainPerDomain, o.TestPerDomain, o.Seed);
        sTrain.Dispose(); tTrain.Dispose();
        using (sTest) using (tTest)
        {
            using var source = DomainEncoder.Create(context.Backbones, m.Architecture, m.BaseWeights, m.Delta.Stages, 0, context.Device);
            using var target = DomainEncoder.Create(context.Backbones, m.Architecture, m.BaseWeights, m.Delta.Stages, 0, context.Device);
            if (source.Backbone.Base.WeightsSha256 != m.BaseWeightsSha256)
                throw new InvalidDataException($"{patch.Path}: made for base weights {m.BaseWeightsSha256[..12]}…, but '{m.BaseWeights}' resolves to {source.Backbone.Base.WeightsSha256[..12]}….");
            source.Backbone.LoadDeltaState(patch.Section(SourceDelta));
            target.Backbone.LoadDeltaState(patch.Section(TargetDelta));
            using var classifier = new SourceClassifier(source.NumFeatures, 10);
            classifier.load_state_dict(new Dictionary<string, Tensor>(patch.Section(Head)));
            classifier.to(context.Device);
            var metrics = new Dictionary<string, double>
            {
                ["source_top1"] = Evaluation.Accuracy(source, classifier, sTest),
                ["target_top1"] = Evaluation.Accuracy(target, classifier, tTest),
            };
            return new EvaluateResult(metrics, []);
        }
    }, ct);

    protected override Task<PredictResult> PredictAsync(TaskContext context, PredictRequest request, DomainAdaptOptions o, CancellationToken ct) =>
        throw new NotSupportedException("domainadapt: predict is not implemented yet; use evaluate on a target-domain patch.");

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
