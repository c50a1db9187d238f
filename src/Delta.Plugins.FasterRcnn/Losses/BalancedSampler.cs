using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Losses;

/// <summary>
/// Draws at most <c>batchSize</c> predictions per image with at most <c>positiveFraction</c> positives, filling the rest
/// with negatives (Faster R-CNN: 256 anchors at 1:1 for the RPN; Fast R-CNN: 512 RoIs at 25% foreground).
/// Shapes: labels [P] (1 pos, 0 neg, -1 ignore) → (positive indices [p], negative indices [q]) int64.
/// </summary>
public static class BalancedSampler
{
    public static (Tensor Positive, Tensor Negative) Sample(Tensor labels, int batchSize, double positiveFraction, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var pos = labels.eq(1).nonzero().flatten();
        var neg = labels.eq(0).nonzero().flatten();
        long numPos = Math.Min(pos.shape[0], (long)(batchSize * positiveFraction));
        long numNeg = Math.Min(neg.shape[0], batchSize - numPos);
        var p = pos.index_select(0, randperm(pos.shape[0], generator: generator).to(labels.device)[..(int)numPos]);
        var n = neg.index_select(0, randperm(neg.shape[0], generator: generator).to(labels.device)[..(int)numNeg]);
        return (p.MoveToOuterDisposeScope(), n.MoveToOuterDisposeScope());
    }
}
