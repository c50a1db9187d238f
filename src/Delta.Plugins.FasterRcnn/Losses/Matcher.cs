using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Losses;

/// <summary>
/// Assigns each prediction (anchor or proposal) to its best ground-truth box by IoU: label 1 (IoU ≥ high), 0 (IoU &lt; low),
/// -1 (in between: ignored). With <c>allowLowQuality</c> (the RPN's rule (i) in Faster R-CNN §3.1.2) each GT's
/// highest-IoU predictions are positive even below the threshold, so every object gets an anchor.
/// Shapes: iou [G, P] → (matched GT index [P] int64, label [P] int64). G = 0 gives all 0 (background).
/// </summary>
public static class Matcher
{
    public static (Tensor Matched, Tensor Labels) Match(Tensor iou, double high, double low, bool allowLowQuality)
    {
        using var scope = NewDisposeScope();
        long p = iou.shape[1];
        if (iou.shape[0] == 0)
            return (zeros(p, dtype: ScalarType.Int64, device: iou.device).MoveToOuterDisposeScope(),
                    zeros(p, dtype: ScalarType.Int64, device: iou.device).MoveToOuterDisposeScope());
        var (vals, idx) = iou.max(0);                                                 // [P]
        var labels = full(p, -1L, dtype: ScalarType.Int64, device: iou.device);
        labels = labels.masked_fill(vals.ge(high), 1).masked_fill(vals.lt(low), 0);
        if (allowLowQuality)
        {
            var best = iou.max(1).values[.., None];                                   // [G, 1]
            var lq = iou.eq(best).logical_and(best.gt(0)).any(0);                    // [P]
            labels = labels.masked_fill(lq, 1);
        }
        return (idx.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }
}
