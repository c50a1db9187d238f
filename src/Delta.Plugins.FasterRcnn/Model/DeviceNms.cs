using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// Greedy NMS computed on the boxes' own device, for GPUs, where the host scan of <see cref="Nms"/> would leave the
/// device idle while one CPU core compares O(N · kept) pairs.
///
/// Greedy NMS keeps box i (in score order) iff no KEPT box ranked before it overlaps it by more than the threshold.
/// That rule is a fixed point: with S[j, i] = (IoU(j, i) &gt; t and j ranked before i), keep = ¬ any_j (keep_j ∧ S[j, i]).
/// Iterating it from "all kept" reaches greedy's set exactly: a box whose higher-ranked overlaps all have their final
/// status gets its own final status one iteration later, so by induction over the rank order every status settles,
/// and once two iterations agree the set satisfies the rule, whose solution is unique. Each iteration is one N x N
/// masked reduction (no host work); the host reads one bool per iteration to stop. Typical detector outputs settle
/// in a few iterations (clusters of mutually overlapping boxes settle in two); a long sliding chain of partial
/// overlaps needs more, so past <c>maxIterations</c> the caller's host scan takes over.
/// IoU is computed in float64 from the float32 coordinates, as the brute-force reference in the tests does.
/// Shapes: boxes [N, 4] xyxy, scores [N] → kept indices [K] int64 into the inputs, by descending score; memory O(N²).
/// </summary>
public static class DeviceNms
{
    /// <summary>The kept indices, or null when the iteration did not settle within <paramref name="maxIterations"/>.</summary>
    public static Tensor? TryRun(Tensor boxes, Tensor scores, double iouThreshold, int maxIterations = 64)
    {
        using var scope = NewDisposeScope();
        var n = boxes.shape[0];
        if (n == 0) return empty(0, dtype: ScalarType.Int64, device: boxes.device).MoveToOuterDisposeScope();
        var order = scores.sort(descending: true, stable: true).Indices;                    // ties: lower index first
        var b = boxes.index_select(0, order).to_type(ScalarType.Float64);                    // [N, 4], by rank
        var suppresses = OverlapsAbove(b, iouThreshold).triu(1);                              // [N(j), N(i)]: j ranked before i
        var keep = ones(n, dtype: ScalarType.Bool, device: boxes.device);
        var settled = false;
        for (var iteration = 0; iteration < maxIterations && !settled; iteration++)
        {
            using var step = NewDisposeScope();
            var next = suppresses.logical_and(keep.unsqueeze(1)).any(0).logical_not();        // [N]
            settled = next.Equals(keep);                                                      // torch.equal: the one host read per iteration
            keep = next.MoveToOuterDisposeScope();
        }
        return settled ? order.masked_select(keep).MoveToOuterDisposeScope() : null;
    }

    /// <summary>[N, N] bool: IoU(j, i) &gt; t, computed coordinate by coordinate (no [N, N, 2] intermediates).</summary>
    private static Tensor OverlapsAbove(Tensor b, double threshold)
    {
        using var scope = NewDisposeScope();
        var (x1, y1, x2, y2) = (b[.., 0], b[.., 1], b[.., 2], b[.., 3]);
        var w = (minimum(x2.unsqueeze(1), x2.unsqueeze(0)) - maximum(x1.unsqueeze(1), x1.unsqueeze(0))).clamp_min(0);
        var h = (minimum(y2.unsqueeze(1), y2.unsqueeze(0)) - maximum(y1.unsqueeze(1), y1.unsqueeze(0))).clamp_min(0);
        var inter = w * h;
        var area = (x2 - x1) * (y2 - y1);
        var union = area.unsqueeze(1) + area.unsqueeze(0) - inter;
        return (inter / union.clamp_min(1e-9)).gt(threshold).MoveToOuterDisposeScope();
    }
}
