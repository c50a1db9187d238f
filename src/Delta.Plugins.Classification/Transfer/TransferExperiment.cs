using System.Diagnostics;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Backbones.Registry;
using Delta.Data.Datasets;
using Delta.Data.Loading;
using Delta.Data.Transforms;
using Delta.Plugins.Classification.Data;
using Delta.Plugins.Classification.Metrics;
using Delta.Plugins.Classification.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Transfer;

/// <summary>
/// Transfer learning from a pretrained backbone to a target task in the low-data protocol (paper Table 5): each method
/// trains on a seeded stratified fraction of the training pool with the same augmentation, step budget and seed, and
/// is scored (top-1) on the whole test split. Frozen-base methods are checked afterwards: base weights hash unchanged
/// and, with the Δ-modules dropped, features bit-identical to the base's.
/// </summary>
public sealed class TransferExperiment : IDisposable
{
    private readonly TaskContext context;
    private readonly TransferSettings s;
    private readonly TaskData data;
    private readonly BackboneRegistry registry;
    private readonly string baseHash;
    private readonly Tensor probeImages, probeFeatures;

    public TransferExperiment(TaskContext context, TaskData data, TransferSettings settings)
    {
        this.context = context; this.data = data; s = settings;
        var problems = settings.BiTuning.Validate().ToList();                 // fail before any model is built
        if (problems.Count > 0) throw new ArgumentException("Bi-Tuning: " + string.Join(" ", problems));
        if (settings.Steps < 1 || settings.BatchSize < 1) throw new ArgumentException($"transfer needs steps ≥ 1 and batch ≥ 1 (got {settings.Steps}, {settings.BatchSize}).");
        registry = context.Backbones as BackboneRegistry ?? throw new NotSupportedException("transfer needs the default backbone registry (it checks the shared base's weights hash).");
        var request = Request(TransferMethod.Delta4) with { Delta = DeltaConfig.None };
        using (var shared = registry.AcquireBase(request)) baseHash = BaseWeightsHash.Compute(shared.Model);
        using var plain = registry.Create(request);
        var loader = new BatchLoader(data.Test, data.TestIndices.Take(16).ToList(), 16, s.ImageSize, plain.Preprocessing, context.Device);
        using (var batch = loader.Epoch(0).First()) probeImages = batch.Images.clone().DetachFromDisposeScope();
        probeFeatures = PooledNoGrad(plain, probeImages);
    }

    public TaskData Data => data;

    public TransferRun Run(TransferMethod method, double fraction, CancellationToken ct = default)
    {
        var watch = Stopwatch.StartNew();
        var train = fraction >= 1 ? data.TrainIndices.ToList() : Splits.StratifiedFraction(data.Train, fraction, s.Seed + 11, data.TrainIndices);
        var (query, bituning) = SeededModels(method);
        try
        {
            var augmentation = new Compose(new RandomResizedCrop(s.ImageSize, s.CropScale), new HorizontalFlip(s.HorizontalFlip ? 0.5 : 0));
            var loader = new TwoViewLoader(data.Train, train, s.BatchSize, augmentation, s.ImageSize, query.Backbone.Preprocessing, context.Device, s.Seed, twoViews: method.BiTuning);
            IReadOnlyList<Parameter> parameters;
            Func<TwoViewBatch, IReadOnlyDictionary<string, Tensor>> losses;
            Action<bool> setTrainMode;
            if (bituning is not null)
            {
                parameters = bituning.Query.TrainableParameters;
                losses = b => bituning.Losses(b.QueryView, b.KeyView!, b.Labels, b.HostLabels);
                setTrainMode = bituning.SetTrainMode;
            }
            else
            {
                parameters = query.TrainableParameters;
                losses = b => new Dictionary<string, Tensor> { ["ce"] = nn.functional.cross_entropy(query.Logits(b.QueryView), b.Labels) };
                setTrainMode = query.SetTrainMode;
            }
            var loop = new TrainLoop<TwoViewBatch>
            {
                Parameters = parameters, Losses = losses, Batches = loader.Epoch, StepsPerEpoch = loader.BatchesPerEpoch, SetTrainMode = setTrainMode,
                Hyper = s.Hyper(method.FineTunesBackbone ? s.FineTuneLearningRate : s.DeltaLearningRate, loader.BatchesPerEpoch),
            };
            var outcome = context.Trainer.Fit(loop, ct);
            setTrainMode(false);
            var test = new BatchLoader(data.Test, data.TestIndices, 256, s.ImageSize, query.Backbone.Preprocessing, context.Device);
            var top1 = Evaluation.Run(test.Epoch(0), query.Logits).Top1;
            bool? intact = method.FineTunesBackbone ? null : BaseIntact(query.Backbone);
            var last = outcome.History.Count > 0 ? outcome.History[^1].MeanLosses : new Dictionary<string, double>();
            return new TransferRun(method, fraction, train.Count, top1, parameters.Sum(p => p.numel()), outcome.Steps, watch.Elapsed.TotalSeconds, last, intact);
        }
        finally
        {
            if (bituning is not null) bituning.Dispose();
            else query.Dispose();
        }
    }

    private BackboneRequest Request(TransferMethod method) => new()
    {
        Architecture = s.Architecture, Weights = s.Weights, Delta = method.Delta, Device = context.Device, Seed = s.Seed, TrainableBase = method.FineTunesBackbone,
    };

    /// <summary>The query classifier and, for Bi-Tuning, the encoders over it and a key copy. The heads' and projectors'
    /// default initialisation draws from libtorch's default generator: seeded with the run's seed and built under its
    /// process-wide lock, so a method's result depends on the seed alone, not on what ran before it or beside it.</summary>
    private (ClassifierModel Query, BiTuning? BiTuning) SeededModels(TransferMethod method)
    {
        using var seeded = DefaultGenerator.Seeded(s.Seed);
        var query = NewClassifier(method);
        if (!method.BiTuning) return (query, null);
        BiTuningEncoder? queryEncoder = null, keyEncoder = null;
        ClassifierModel? key = null;
        try
        {
            // In this order: it is the order the documented transfer figures were drawn in.
            queryEncoder = new BiTuningEncoder(query, s.BiTuning.ProjectionDim);
            key = NewClassifier(method);
            keyEncoder = new BiTuningEncoder(key, s.BiTuning.ProjectionDim);
            return (query, new BiTuning(queryEncoder, keyEncoder, data.ClassNames.Count, s.BiTuning, s.Seed));
        }
        catch
        {
            if (keyEncoder is not null) keyEncoder.Dispose(); else key?.Dispose();
            if (queryEncoder is not null) queryEncoder.Dispose(); else query.Dispose();
            throw;
        }
    }

    private ClassifierModel NewClassifier(TransferMethod method)
    {
        var model = new ClassifierModel(registry.Create(Request(method)), data.ClassNames.Count);
        BiTuningEncoder.InitializeHead(model.Head);
        return model;
    }

    /// <summary>Zero-drop evidence for a frozen-base run: shared base weights hash as before, and Δ dropped ⇒ the base's features bit for bit.</summary>
    private bool BaseIntact(IDeltaBackbone backbone)
    {
        string hashNow;
        using (var shared = registry.AcquireBase(Request(TransferMethod.Delta4) with { Delta = DeltaConfig.None })) hashNow = BaseWeightsHash.Compute(shared.Model);
        backbone.DeltaEnabled = false;
        try
        {
            using var features = PooledNoGrad(backbone, probeImages);
            return hashNow == baseHash && features.Equals(probeFeatures);
        }
        finally { backbone.DeltaEnabled = true; }
    }

    private static Tensor PooledNoGrad(IDeltaBackbone backbone, Tensor images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return backbone.Forward(images).Pooled.clone().MoveToOuterDisposeScope();
    }

    public void Dispose() { probeImages.Dispose(); probeFeatures.Dispose(); }
}
