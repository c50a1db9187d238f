using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// Greedy non-maximum suppression with one device→host transfer in total (torchvision's own nms in .NET syncs once per
/// kept box). The design is that of torchvision's CUDA kernel: the whole suppression matrix
/// S[i, j] = IoU(b_i, b_j) &gt; t (boxes sorted by score) is computed on the boxes' device in one batched op, copied once,
/// and the greedy scan (keep i unless a kept higher-scored box suppresses it) runs over its rows on the host, costing
/// O(N · kept) byte operations. The kept set is exactly greedy NMS's (tested against a brute-force reference).
/// Memory is N² bytes, so callers cap N with a pre-NMS top-k (N = 2,000 → 4 MB).
/// Shapes: boxes [N, 4] xyxy, scores [N], classes [N] int64 → kept indices [K] int64 into the inputs, by descending score.
/// </summary>
public static class Nms
{
    public static Tensor Run(Tensor boxes, Tensor scores, double iouThreshold)
    {
        using var scope = NewDisposeScope();
        long n = boxes.shape[0];
        if (n == 0) return empty(0, dtype: ScalarType.Int64, device: boxes.device).MoveToOuterDisposeScope();
        var order = scores.argsort(descending: true);
        var sorted = boxes.index_select(0, order);
        var suppress = BoxOps.Iou(sorted, sorted).gt(iouThreshold).to_type(ScalarType.Byte).cpu().contiguous(); // [N, N]
        var kept = GreedyScan(suppress.bytes, (int)n);
        var keptIdx = tensor(kept, device: boxes.device);
        return order.index_select(0, keptIdx).MoveToOuterDisposeScope();
    }

    /// <summary>Class-wise NMS in one call: each class's boxes are shifted by class * (max coordinate + 1), so boxes of
    /// different classes never overlap and a single NMS suppresses within classes only.</summary>
    public static Tensor Batched(Tensor boxes, Tensor scores, Tensor classes, double iouThreshold)
    {
        using var scope = NewDisposeScope();
        if (boxes.shape[0] == 0) return empty(0, dtype: ScalarType.Int64, device: boxes.device).MoveToOuterDisposeScope();
        var offsets = classes.to_type(boxes.dtype) * (boxes.max() + 1);
        return Run(boxes + offsets[.., None], scores, iouThreshold).MoveToOuterDisposeScope();
    }

    private static long[] GreedyScan(ReadOnlySpan<byte> suppress, int n)
    {
        var removed = new byte[n];
        var kept = new List<long>();
        for (int i = 0; i < n; i++)
        {
            if (removed[i] != 0) continue;
            kept.Add(i);
            var row = suppress.Slice(i * n, n);
            for (int j = i + 1; j < n; j++) removed[j] |= row[j];
        }
        return kept.ToArray();
    }
}
