using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Metrics;

/// <summary>
/// Accumulates a [classes, classes] confusion matrix (rows = ground truth, columns = prediction) over
/// labelled pixels; pixels whose ground truth is the ignore label (255) or outside [0, classes) do not count.
/// Counting is one bincount per batch on the device; only the small matrix crosses to the host.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[,] counts;

    public ConfusionMatrix(int numClasses)
    {
        if (numClasses < 1) throw new ArgumentException("numClasses must be ≥ 1.");
        NumClasses = numClasses;
        counts = new long[numClasses, numClasses];
    }

    public int NumClasses { get; }
    public long this[int truth, int predicted] => counts[truth, predicted];

    /// <summary>Adds one count at (truth, predicted), for constructed cases and tests.</summary>
    public void Add(int truth, int predicted, long count = 1)
    {
        if ((uint)truth >= NumClasses || (uint)predicted >= NumClasses) throw new ArgumentOutOfRangeException(nameof(truth));
        counts[truth, predicted] += count;
    }

    /// <summary>truth and predicted: integer tensors of the same shape (any layout, e.g. [N, H, W]).</summary>
    public void Update(Tensor truth, Tensor predicted)
    {
        if (!truth.shape.SequenceEqual(predicted.shape))
            throw new ArgumentException($"Truth [{string.Join(", ", truth.shape)}] and prediction [{string.Join(", ", predicted.shape)}] differ in shape.");
        using var scope = NewDisposeScope();
        var t = truth.reshape(-1).to_type(ScalarType.Int64);
        var p = predicted.reshape(-1).to_type(ScalarType.Int64);
        var valid = t.ge(0).logical_and(t.lt(NumClasses)).logical_and(p.ge(0)).logical_and(p.lt(NumClasses));
        var index = t.masked_select(valid) * NumClasses + p.masked_select(valid);
        var binned = index.bincount(null, minlength: NumClasses * NumClasses).cpu().to_type(ScalarType.Int64);
        var values = binned.data<long>().ToArray();
        for (int i = 0; i < NumClasses; i++)
            for (int j = 0; j < NumClasses; j++)
                counts[i, j] += values[i * NumClasses + j];
    }

    public SegmentationScores Scores() => SegmentationScores.From(counts);
}
