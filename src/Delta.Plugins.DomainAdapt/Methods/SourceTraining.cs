using Delta.Abstractions.Training;
using Delta.Backbones.Autograd;
using Delta.Plugins.DomainAdapt.Data;
using Delta.Plugins.DomainAdapt.Losses;
using Delta.Plugins.DomainAdapt.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Methods;

/// <summary>
/// Supervised training of encoder + classifier on one labelled domain: the "Vanilla" method
/// (cross-entropy) and the "Uniform prior" method (cross-entropy + w·L_unif on the pooled features,
/// Sinha et al. 2022). Also trains the target-only upper bound, on target labels, which only that row uses.
/// Only the encoder's <c>TrainableParameters</c> (Δ-modules, or the whole private copy without Δ) and the head train.
/// </summary>
public static class SourceTraining
{
    public static IReadOnlyList<double> Train(DomainEncoder encoder, SourceClassifier classifier, LabelledImages data,
        bool uniformPrior, MethodSettings s, int seed)
    {
        DefaultGenerator.Seed(seed);
        var parameters = encoder.Backbone.TrainableParameters.Concat(classifier.parameters()).ToList();
        using var opt = optim.Adam(parameters, s.SupervisedRate(encoder.UsesDelta));
        var sampler = new BatchSampler(data.Count, s.BatchSize, seed);
        var device = encoder.Backbone.Device;
        using var log = new DeviceScalarLog();
        encoder.Backbone.Train(true);
        classifier.train();
        for (int step = 0; step < s.SourceSteps; step++)
        {
            using var scope = NewDisposeScope();
            var idx = sampler.Next(data.Images.device);
            var x = data.Images.index_select(0, idx).to(device);
            var y = data.Labels.index_select(0, idx).to(device);
            opt.zero_grad();
            using var singleBackward = FrozenLayerBackward.SingleBackward();   // one backward per forward
            var f = encoder.Features(x);
            var loss = nn.functional.cross_entropy(classifier.call(f), y);
            if (uniformPrior) loss = loss + s.UniformWeight * UniformityLoss.Compute(f, s.UniformTemperature);
            loss.backward();
            opt.step();
            log.Add(loss);
        }
        encoder.Backbone.Train(false);
        classifier.eval();
        var losses = log.ReadAll();                                  // one transfer for the whole run
        var bad = Array.FindIndex(losses, v => !double.IsFinite(v));
        if (bad >= 0) throw new InvalidOperationException($"Non-finite loss at source step {bad} on {data.Name}.");
        return losses;
    }
}
