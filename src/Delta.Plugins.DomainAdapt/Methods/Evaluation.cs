using Delta.Abstractions.Training;
using Delta.Plugins.DomainAdapt.Data;
using Delta.Plugins.DomainAdapt.Models;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Methods;

/// <summary>Top-1 accuracy and feature extraction in eval mode, batched.</summary>
public static class Evaluation
{
    public static double Accuracy(DomainEncoder encoder, SourceClassifier classifier, LabelledImages data, int batchSize = 256)
    {
        encoder.Backbone.Train(false);
        classifier.eval();
        using var correct = new DeviceScalarLog();                  // per-batch counts, read once at the end
        using var noGrad = no_grad();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var n = Math.Min(batchSize, data.Count - start);
            var x = data.Images.narrow(0, start, n).to(encoder.Backbone.Device);
            var y = data.Labels.narrow(0, start, n).to(encoder.Backbone.Device);
            var predicted = classifier.call(encoder.Features(x)).argmax(1);
            correct.Add(predicted.eq(y).sum());
        }
        return correct.ReadAll().Sum() / data.Count;
    }

    /// <summary>Pooled features [N, D] on the CPU (for the PCA picture).</summary>
    public static Tensor Features(DomainEncoder encoder, Tensor images, int batchSize = 256)
    {
        encoder.Backbone.Train(false);
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        try
        {
            for (long start = 0; start < images.shape[0]; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var n = Math.Min(batchSize, images.shape[0] - start);
                parts.Add(encoder.Features(images.narrow(0, start, n).to(encoder.Backbone.Device)).cpu().MoveToOuterDisposeScope());
            }
            return cat(parts.ToArray(), 0);
        }
        finally { foreach (var p in parts) p.Dispose(); }
    }
}
