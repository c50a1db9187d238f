using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// Greedy non-maximum suppression with one device→host transfer in total (torchvision's own nms in .NET syncs once per
/// kept box). The scores are sorted on the device; the sorted boxes come to the host in one copy; the greedy scan runs
/// there over flat float arrays: each surviving box, in score order, suppresses the later boxes that overlap it by more
/// than the threshold, so only kept boxes are compared (O(N · kept) IoUs, no N x N matrix). The kept indices go back in
/// one copy. The kept set is exactly greedy NMS's (tested against a brute-force reference).
/// Shapes: boxes [N, 4] xyxy, scores [N], classes [N] int64 → kept indices [K] int64 into the inputs, by descending score.
/// </summary>
public static class Nms
{
    /// <summary>Largest N sent to <see cref="DeviceNms"/>: its N x N work tensors (the float64 IoU ratio alone is 0.5 GB at 8,192 boxes) grow with N².</summary>
    public const int DeviceNmsMaxBoxes = 8192;

    public static Tensor Run(Tensor boxes, Tensor scores, double iouThreshold)
    {
        using var scope = NewDisposeScope();
        long n = boxes.shape[0];
        if (n == 0) return empty(0, dtype: ScalarType.Int64, device: boxes.device).MoveToOuterDisposeScope();
        // On a GPU the IoUs run there (DeviceNms, O(N²) memory, hence the size cap); on the CPU the host scan below,
        // which compares only against kept boxes, is the faster of the two.
        if (boxes.device.type == DeviceType.CUDA && n <= DeviceNmsMaxBoxes)
            return DeviceNms.Run(boxes, scores, iouThreshold).MoveToOuterDisposeScope();
        var order = scores.argsort(descending: true);
        var sorted = boxes.index_select(0, order).to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray(); // the one transfer
        var kept = GreedyScan(sorted, (int)n, iouThreshold);
        var keptIdx = tensor(kept, device: boxes.device);
        return order.index_select(0, keptIdx).MoveToOuterDisposeScope();
    }

    /// <summary>Class-wise NMS in one call: each class's boxes are shifted by class * (max coordinate + 1), so boxes of
    /// different classes never overlap and a single NMS suppresses within classes only. On a GPU, a batch larger than
    /// <see cref="DeviceNms"/> takes at once (the RPN's 5 levels x 2,000 boxes on large images) goes class by class
    /// instead (<see cref="BatchedPerClass"/>), as torchvision's batched_nms does past 5,000 boxes on CUDA.</summary>
    public static Tensor Batched(Tensor boxes, Tensor scores, Tensor classes, double iouThreshold)
    {
        using var scope = NewDisposeScope();
        if (boxes.shape[0] == 0) return empty(0, dtype: ScalarType.Int64, device: boxes.device).MoveToOuterDisposeScope();
        if (boxes.device.type == DeviceType.CUDA && boxes.shape[0] > DeviceNmsMaxBoxes)
            return BatchedPerClass(boxes, scores, classes, iouThreshold).MoveToOuterDisposeScope();
        var offsets = classes.to_type(boxes.dtype) * (boxes.max() + 1);
        return Run(boxes + offsets[.., None], scores, iouThreshold).MoveToOuterDisposeScope();
    }

    /// <summary>Class-wise NMS one class at a time (<see cref="Run"/> on each class's boxes): the same kept set as
    /// <see cref="Batched"/>, in descending score order (ties: lower index first), with each NMS only as large as its
    /// class. Reads the class list and each class's members back to the host.</summary>
    public static Tensor BatchedPerClass(Tensor boxes, Tensor scores, Tensor classes, double iouThreshold)
    {
        using var scope = NewDisposeScope();
        if (boxes.shape[0] == 0) return empty(0, dtype: ScalarType.Int64, device: boxes.device).MoveToOuterDisposeScope();
        var kept = new List<Tensor>();
        foreach (var c in classes.unique().output.cpu().data<long>().ToArray())
        {
            var members = classes.eq(c).nonzero().flatten();
            kept.Add(members.index_select(0, Run(boxes.index_select(0, members), scores.index_select(0, members), iouThreshold)));
        }
        var all = cat(kept, 0);
        var byScore = scores.index_select(0, all).sort(descending: true, stable: true).Indices;
        return all.index_select(0, byScore).MoveToOuterDisposeScope();
    }

    private static long[] GreedyScan(float[] b, int n, double threshold)
    {
        var area = new float[n];
        for (int i = 0; i < n; i++) area[i] = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
        var removed = new bool[n];
        var kept = new List<long>();
        for (int i = 0; i < n; i++)
        {
            if (removed[i]) continue;
            kept.Add(i);
            float x1 = b[4 * i], y1 = b[4 * i + 1], x2 = b[4 * i + 2], y2 = b[4 * i + 3], ai = area[i];
            for (int j = i + 1; j < n; j++)
            {
                if (removed[j]) continue;
                float w = MathF.Min(x2, b[4 * j + 2]) - MathF.Max(x1, b[4 * j]);
                if (w <= 0) continue;
                float h = MathF.Min(y2, b[4 * j + 3]) - MathF.Max(y1, b[4 * j + 1]);
                if (h <= 0) continue;
                float inter = w * h;
                // Same IoU as BoxOps.Iou (union clamped away from 0), compared in double as the reference does.
                if (inter / (double)MathF.Max(ai + area[j] - inter, 1e-9f) > threshold) removed[j] = true;
            }
        }
        return kept.ToArray();
    }
}
