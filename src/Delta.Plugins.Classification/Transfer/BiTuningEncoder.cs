using TorchSharp;
using Delta.Plugins.Classification.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Transfer;

/// <summary>
/// One encoder of Bi-Tuning (the reference's <c>Classifier</c>): a classifier (backbone + linear head) plus a
/// projector head on the same pooled features h [N, F]. Outputs y = head(h) [N, C], z = normalize(projector(h))
/// [N, D] and hn = normalize([h, 1]) [N, F+1] (the feature the classifier contrastive term compares with the
/// head's prototypes [W_c, b_c]).
/// </summary>
public sealed class BiTuningEncoder : IDisposable
{
    /// <summary>The projector gets the default Linear initialisation from the global generator (seed it first).</summary>
    public BiTuningEncoder(ClassifierModel classifier, int projectionDim)
    {
        if (projectionDim < 1) throw new ArgumentOutOfRangeException(nameof(projectionDim), $"projection dim must be ≥ 1 (got {projectionDim}).");
        Classifier = classifier;
        Projector = nn.Linear(classifier.Backbone.NumFeatures, projectionDim);
        Projector.to(classifier.Backbone.Device);
    }

    public ClassifierModel Classifier { get; }
    public Linear Projector { get; }

    /// <summary>x [N, 3, H, W] preprocessed ↦ (y [N, C], z [N, D] unit rows, hn [N, F+1] unit rows).</summary>
    public (Tensor Logits, Tensor Z, Tensor Hn) Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Classifier.Backbone.Forward(x).Pooled;                                                        // [N, F]
        var y = Classifier.Head.call(h);
        var z = nn.functional.normalize(Projector.call(h), dim: 1);
        var hn = nn.functional.normalize(cat([h, ones(h.shape[0], 1, dtype: h.dtype, device: h.device)], 1), dim: 1);
        return (y.MoveToOuterDisposeScope(), z.MoveToOuterDisposeScope(), hn.MoveToOuterDisposeScope());
    }

    /// <summary>The reference's head initialisation: weights N(0, 0.01²), bias 0 (used for every transfer method, so only the loss differs).</summary>
    public static void InitializeHead(Linear head)
    {
        using var noGrad = no_grad();
        head.weight!.normal_(0, 0.01);
        head.bias!.zero_();
    }

    public void SetTrainMode(bool mode) { Classifier.SetTrainMode(mode); Projector.train(mode); }

    /// <summary>The parameters an optimizer may see: the classifier's trainable ones (Δ-modules or the private base copy, head) and the projector.</summary>
    public IReadOnlyList<Parameter> TrainableParameters => Classifier.TrainableParameters.Concat(Projector.parameters()).ToList();

    /// <summary>Every parameter this encoder owns (never the shared frozen base), by a name that is the same in any
    /// encoder built from the same request: "backbone.*", "head.*", "projector.*".</summary>
    public IEnumerable<(string Name, Parameter Parameter)> OwnParameters() =>
        Classifier.Backbone.Module.named_parameters().Select(p => ("backbone." + p.name, p.parameter))
            .Concat(Classifier.Head.named_parameters().Select(p => ("head." + p.name, p.parameter)))
            .Concat(Projector.named_parameters().Select(p => ("projector." + p.name, p.parameter)));

    public void Dispose() { Projector.Dispose(); Classifier.Dispose(); }
}
