using Delta.Abstractions.Backbones;
using Delta.Plugins.Classification.Baselines;
using Delta.Plugins.Classification.Data;
using Delta.Plugins.Classification.Metrics;
using Delta.Plugins.Classification.Models;
using Delta.Plugins.Classification.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Experiments;

/// <summary>
/// M_S: the shared frozen backbone (no Δ) and a base head φ_S trained as a linear probe on the base task. Its
/// accuracy and logits on the base test set are recorded once, so that any later moment can check the base task
/// is unchanged — exactly, logits bit for bit.
/// </summary>
public sealed class BaseModel : IDisposable
{
    public IDeltaBackbone Backbone { get; }
    public Linear Head { get; }
    public TaskData Data { get; }
    public double Top1 { get; }
    public IReadOnlyList<double> ProbeLosses { get; }
    private readonly Tensor referenceLogits;
    private readonly DataLoaders loaders;

    public BaseModel(IBackboneRegistry registry, TaskData data, ExperimentSettings s, Device device)
    {
        Data = data;
        Backbone = registry.Create(new BackboneRequest { Architecture = s.Architecture, Weights = s.Weights, Delta = DeltaConfig.None, Device = device });
        Backbone.ReturnStages = [];                                        // the base task reads only the pooled vector
        loaders = DataLoaders.For(data, Backbone, s.ImageSize, s.BatchSize, s.Seed);
        Head = nn.Linear(Backbone.NumFeatures, data.ClassNames.Count);
        Head.to(device);
        SeededLinearInit.Apply(Head, s.Seed);                              // what manual_seed + nn.Linear drew, without the global generator
        using (var train = FeatureProbe.Extract(Backbone, loaders.Train))
            ProbeLosses = FeatureProbe.Train(Head, train, s.ProbeEpochs, s.BatchSize, s.HeadLearningRate, s.WeightDecay, s.Seed);
        foreach (var p in Head.parameters()) p.requires_grad = false;      // φ_S is part of the frozen base model from now on
        referenceLogits = TestLogits().DetachFromDisposeScope();
        Top1 = Accuracy(referenceLogits);
    }

    /// <summary>Logits of M_S on the base test set [N, classes], computed now.</summary>
    public Tensor TestLogits() => TestLogits(x => Head.call(Backbone.Forward(x).Pooled));

    public Tensor TestLogits(Func<Tensor, Tensor> logits)
    {
        var parts = new List<Tensor>();
        using var noGrad = no_grad();
        foreach (var b in loaders.Test.Epoch(0))
            using (b)
            using (NewDisposeScope())                                      // the forward's other outputs and temporaries
                parts.Add(logits(b.Images).DetachFromDisposeScope());
        try { return cat(parts.ToArray()).DetachFromDisposeScope(); }
        finally { foreach (var p in parts) p.Dispose(); }
    }

    public double Accuracy(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var predicted = logits.argmax(1).cpu().data<long>().ToArray().Select(v => (int)v).ToList();
        var truth = Data.TestIndices.Select(Data.Test.Label).ToList();
        return ClassificationMetrics.Top1(predicted, truth);
    }

    /// <summary>Re-runs M_S on the base test set: (accuracy, logits bit-identical to the ones recorded at creation).</summary>
    public (double Top1, bool Identical) Recheck()
    {
        using var now = TestLogits();
        return (Accuracy(now), now.Equals(referenceLogits));
    }

    public void Dispose() { referenceLogits.Dispose(); Head.Dispose(); Backbone.Dispose(); }
}
