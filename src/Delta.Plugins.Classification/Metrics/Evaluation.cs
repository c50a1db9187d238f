using Delta.Data.Loading;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Metrics;

/// <summary>Predictions of a model over a loader's batches (eval mode, no autograd); labels come back with them.</summary>
public sealed record Evaluation(int[] Predicted, int[] Truth, double Top1)
{
    /// <param name="logits">batch images ↦ logits [N, classes]</param>
    public static Evaluation Run(IEnumerable<ImageBatch> batches, Func<Tensor, Tensor> logits)
    {
        var predicted = new List<int>();
        var truth = new List<int>();
        using var noGrad = no_grad();
        foreach (var batch in batches)
        {
            using (batch)
            using (var scope = NewDisposeScope())
            {
                var p = logits(batch.Images).argmax(1).cpu();
                predicted.AddRange(p.data<long>().ToArray().Select(v => (int)v));
                truth.AddRange(batch.Labels.cpu().data<long>().ToArray().Select(v => (int)v));
            }
        }
        return new Evaluation(predicted.ToArray(), truth.ToArray(), ClassificationMetrics.Top1(predicted, truth));
    }
}
