using System.Diagnostics;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Backbones.Weights;
using Delta.Data.Loading;
using Delta.Plugins.Classification.Adapters;
using Delta.Plugins.Classification.Baselines;
using Delta.Plugins.Classification.Data;
using Delta.Plugins.Classification.Metrics;
using Delta.Plugins.Classification.Models;
using Delta.Plugins.Classification.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Experiments;

/// <summary>
/// Runs patching methods for a new task T_P against one base model M_S under one budget (paper §3, Tables 1–2):
/// FC-only, Δ-Networks(n) (any variant), and PAINT. Each Δ/FC-only result is saved as a patch; every method's
/// report says whether the base task's logits stayed bit-identical.
/// </summary>
public sealed class PatchingExperiment(TaskContext context, BaseModel baseModel, ExperimentSettings s, string outputDir)
{
    /// <summary>One α of PAINT's sweep: test accuracies (base task, new task), their harmonic mean, and the harmonic mean
    /// on the validation images α is picked by (NaN where there are none).</summary>
    public sealed record PaintPoint(double Alpha, double BaseTop1, double PatchedTop1, double HarmonicMean, double ValidationHarmonicMean);

    public MethodResult FcOnly(TaskData target, string patchName)
    {
        var watch = Stopwatch.StartNew();
        var backbone = context.Backbones.Create(new BackboneRequest { Architecture = s.Architecture, Weights = s.Weights, Delta = DeltaConfig.None, Device = context.Device });
        using var model = NewClassifier(backbone, target);
        var loaders = DataLoaders.For(target, backbone, s.ImageSize, s.BatchSize, s.Seed);
        List<double> losses;
        using (var train = FeatureProbe.Extract(backbone, loaders.Train))
            losses = FeatureProbe.Train(model.Head, train, s.Epochs, s.BatchSize, s.HeadLearningRate, s.WeightDecay, s.Seed);
        model.SetTrainMode(false);
        var patched = Evaluation.Run(loaders.Test.Epoch(0), model.Logits).Top1;
        var (baseAfter, identical) = baseModel.Recheck();
        var patch = ClassifierPatch.Save(context.Patches, patchName, model, target,
            new Dictionary<string, double> { ["top1"] = patched }, s.ImageSize);
        return new MethodResult("FC-only", s.Architecture, target.Name, baseModel.Top1, baseAfter, patched, ClassificationMetrics.HarmonicMean(baseAfter, patched),
            model.TrainableParameterCount, patch.SizeBytes, "patch", identical, watch.Elapsed.TotalSeconds, losses);
    }

    /// <summary>Trains Δ-modules + head; the model is returned (caller disposes) for sequential checks and gate maps.</summary>
    public (MethodResult Result, ClassifierModel Model, DataLoaders Loaders) Delta(TaskData target, DeltaConfig delta, string patchName, string? label = null)
    {
        var watch = Stopwatch.StartNew();
        var backbone = context.Backbones.Create(new BackboneRequest { Architecture = s.Architecture, Weights = s.Weights, Delta = delta, Device = context.Device, Seed = s.Seed });
        var name = label ?? (delta.Variant == DeltaVariant.Delta ? $"Δ-Networks({delta.Stages}){(delta.GateStride == 1 ? "" : $", gate stride {delta.GateStride}")}" : $"{DeltaConfig.VariantName(delta.Variant)}({delta.Stages}){(delta.BatchNorm ? "" : " −BN")}");
        return TrainPatch(backbone, target, patchName, name, note: null, watch);
    }

    /// <summary>Residual adapters (series/parallel) or BN adaptation + a new head, on a private copy of the base (see
    /// <see cref="AdaptedBackbone"/>); trained like Δ (same loop, learning rate and budget). The base task is served by
    /// the untouched shared base, so its accuracy is the recheck of M_S; the adapted network is a separate path.
    /// The model is returned (caller disposes).</summary>
    public (MethodResult Result, ClassifierModel Model, DataLoaders Loaders) Adapter(TaskData target, AdapterKind kind, string patchName)
    {
        var watch = Stopwatch.StartNew();
        var backbone = AdaptedBackbone.Create(context.Backbones, new BackboneRequest { Architecture = s.Architecture, Weights = s.Weights, Device = context.Device, Seed = s.Seed }, kind);
        return TrainPatch(backbone, target, patchName, AdapterKinds.Label(kind), watch: watch,
            note: "changes the base computation: the task runs on a private adapted copy, the base task on the untouched shared base");
    }

    /// <summary>What Δ and the adapters share: a new head over <paramref name="backbone"/>, trained by the host's loop at
    /// the Δ learning rate, evaluated on the target's test split, the base task rechecked, the patch saved.</summary>
    private (MethodResult Result, ClassifierModel Model, DataLoaders Loaders) TrainPatch(IDeltaBackbone backbone, TaskData target, string patchName,
        string name, string? note, Stopwatch watch)
    {
        var model = NewClassifier(backbone, target);
        var loaders = DataLoaders.For(target, backbone, s.ImageSize, s.BatchSize, s.Seed);
        DefaultGenerator.Seed(s.Seed);
        var outcome = PatchTraining.Fit(context.Trainer, model, loaders with { Val = null }, s.Hyper(s.DeltaLearningRate), CancellationToken.None);
        model.SetTrainMode(false);
        var patched = Evaluation.Run(loaders.Test.Epoch(0), model.Logits).Top1;
        var (baseAfter, identical) = baseModel.Recheck();
        var patch = ClassifierPatch.Save(context.Patches, patchName, model, target,
            new Dictionary<string, double> { ["top1"] = patched }, s.ImageSize);
        var result = new MethodResult(name, s.Architecture, target.Name, baseModel.Top1, baseAfter, patched, ClassificationMetrics.HarmonicMean(baseAfter, patched),
            model.TrainableParameterCount, patch.SizeBytes, "patch", identical, watch.Elapsed.TotalSeconds, outcome.History.Select(h => h.MeanLosses["ce"]).ToList(), note);
        return (result, model, loaders);
    }

    /// <summary>PAINT: full fine-tuning (a private trainable copy of the base + a new head), then the α sweep. Its
    /// "patch" is a whole model copy.
    /// <para>α is picked as PAINT's paper does, by the harmonic mean of base and new-task accuracy on held-out validation
    /// images: each task's validation split, or where it has none (the demo and compare hold none out, so that every
    /// method trains on the same images) up to <see cref="ExperimentSettings.PaintValidationPerClass"/> per class of the
    /// training dataset's images that no split uses (<see cref="UnusedImages"/>). The row reports test accuracy at that
    /// α. Only where a task has no such images either is α picked on the test sets themselves; the row's name then says
    /// it is an oracle (PAINT's best case).</para>
    /// <para>Every α comes back with its test figures and its validation harmonic mean (NaN without validation).</para></summary>
    public (MethodResult Result, IReadOnlyList<PaintPoint> Sweep) Paint(TaskData target)
    {
        var watch = Stopwatch.StartNew();
        var request = new BackboneRequest { Architecture = s.Architecture, Weights = s.Weights, Delta = DeltaConfig.None, Device = context.Device, TrainableBase = true };
        using var tuned = NewClassifier(context.Backbones.Create(request), target);
        var loaders = DataLoaders.For(target, tuned.Backbone, s.ImageSize, s.BatchSize, s.Seed);
        DefaultGenerator.Seed(s.Seed);
        var outcome = PatchTraining.Fit(context.Trainer, tuned, loaders with { Val = null }, s.Hyper(s.FineTuneLearningRate), CancellationToken.None);
        tuned.SetTrainMode(false);
        var fineTuned = tuned.Backbone.DeltaState().Where(kv => kv.Key.StartsWith("base.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
        // Leased for the whole sweep: the interpolation reads the base's tensors, and neither fine-tuned copy pins it.
        using var sharedBase = context.Backbones is Delta.Backbones.Registry.BackboneRegistry r ? r.AcquireBase(request with { TrainableBase = false })
            : throw new NotSupportedException("PAINT needs the registry's shared base weights.");
        var baseState = Baselines.Paint.BaseStateAsCopyKeys(sharedBase.Model);
        var sweep = new List<PaintPoint>();
        using var probe = new ClassifierModel(context.Backbones.Create(request), target.ClassNames.Count);
        probe.Head.load_state_dict(tuned.Head.state_dict());
        probe.SetTrainMode(false);
        var targetValidation = ValidationLoader(target, probe.Backbone, s.Seed + 1);
        var baseValidation = ValidationLoader(baseModel.Data, probe.Backbone, s.Seed + 2);
        var onValidation = targetValidation is not null && baseValidation is not null;
        Tensor BaseLogits(Tensor x) => baseModel.Head.call(probe.Backbone.Forward(x).Pooled);
        foreach (var alpha in Baselines.Paint.Alphas)
        {
            using (var scope = NewDisposeScope())
            {
                var mixed = Baselines.Paint.Interpolate(baseState, fineTuned, alpha);
                using (no_grad()) foreach (var (k, t) in probe.Backbone.DeltaState()) t.copy_(mixed[k]);
            }
            var patched = Evaluation.Run(loaders.Test.Epoch(0), probe.Logits).Top1;
            using var baseLogits = baseModel.TestLogits(BaseLogits);
            var baseTop1 = baseModel.Accuracy(baseLogits);
            var validationMean = onValidation
                ? ClassificationMetrics.HarmonicMean(Evaluation.Run(baseValidation!.Epoch(0), BaseLogits).Top1, Evaluation.Run(targetValidation!.Epoch(0), probe.Logits).Top1)
                : double.NaN;
            sweep.Add(new PaintPoint(alpha, baseTop1, patched, ClassificationMetrics.HarmonicMean(baseTop1, patched), validationMean));
        }
        var best = onValidation ? sweep.MaxBy(p => p.ValidationHarmonicMean)! : sweep.MaxBy(p => p.HarmonicMean)!;
        // What PAINT must ship per task: the whole interpolated backbone plus its head. Measured by writing it.
        var copyPath = Path.Combine(outputDir, "paint-model-copy.dat");
        StateDictFile.Write(copyPath, probe.CheckpointState());
        var copyBytes = new FileInfo(copyPath).Length;
        File.Delete(copyPath);
        var name = onValidation ? $"PAINT (α={best.Alpha:F1}, picked on validation)" : $"PAINT (oracle α={best.Alpha:F1}, picked on test)";
        var result = new MethodResult(name, s.Architecture, target.Name, baseModel.Top1, best.BaseTop1, best.PatchedTop1, best.HarmonicMean,
            tuned.TrainableParameterCount, copyBytes, "model copy", false, watch.Elapsed.TotalSeconds, outcome.History.Select(h => h.MeanLosses["ce"]).ToList(),
            "fine-tunes all backbone weights: no zero-drop guarantee");
        return (result, sweep);
    }

    /// <summary>Ordered batches of a task's validation split, or of images no split uses; null where there are neither.</summary>
    private BatchLoader? ValidationLoader(TaskData data, IDeltaBackbone backbone, int seed)
    {
        var images = data.ValIndices.Count > 0 ? data.ValIndices : UnusedImages.Draw(data, s.PaintValidationPerClass, seed);
        return images.Count == 0 ? null : new BatchLoader(data.Train, images, 256, s.ImageSize, backbone.Preprocessing, backbone.Device);
    }

    /// <summary>A new head over <paramref name="backbone"/>, drawn from the experiment's seed alone: without it the head
    /// came from the process-global generator, so a method's figures depended on which methods ran before it (the demo's
    /// optdigits row moved with <c>--skip-paint</c>).</summary>
    private ClassifierModel NewClassifier(IDeltaBackbone backbone, TaskData target)
    {
        var model = new ClassifierModel(backbone, target.ClassNames.Count);
        model.ResetHead(s.Seed);
        return model;
    }

    /// <summary>Mean Λ of each Δ stage over a test set, as k×(k) matrices: rows = source i (0..k−1), columns = target j (1..k); NaN where i ≥ j.</summary>
    public static Dictionary<string, double[,]> MeanGates(ClassifierModel model, DataLoaders loaders)
    {
        var sums = new Dictionary<string, double[]>();
        long n = 0;
        model.Backbone.ReturnGates = true;
        try
        {
            using var noGrad = no_grad();
            foreach (var b in loaders.Test.Epoch(0))
                using (b)
                using (var scope = NewDisposeScope())
                {
                    var gates = model.Backbone.Forward(b.Images).Gates!;
                    foreach (var (stage, g) in gates)
                    {
                        // Named dim: a bare sum(0) binds to sum(ScalarType) (literal 0 converts to any enum) and sums everything.
                        var s = g.sum(dim: 0).cpu().to_type(ScalarType.Float64).data<double>().ToArray();
                        if (!sums.TryGetValue(stage, out var acc)) sums[stage] = acc = new double[s.Length];
                        for (int i = 0; i < s.Length; i++) acc[i] += s[i];
                    }
                    n += b.Count;
                }
        }
        finally { model.Backbone.ReturnGates = false; }
        return sums.ToDictionary(kv => kv.Key, kv => Reports.GateMaps.Matrix(kv.Value.Select(v => v / n).ToList(), model.Backbone.BlocksPerDeltaStage[kv.Key]));
    }
}
