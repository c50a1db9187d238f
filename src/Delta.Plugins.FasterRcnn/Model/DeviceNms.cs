using System.Numerics;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// Greedy NMS for GPUs, the way torchvision's CUDA kernel splits it: the device computes, for every pair of boxes in
/// score order, whether the earlier one would suppress the later one (IoU above the threshold), packed into a bit
/// matrix; the host gets that matrix in one copy and runs the greedy scan over it, one row OR per kept box. The device
/// does the O(N²) IoUs in parallel; the host does no geometry, only N·N/8 byte ORs at most (vectorised); there is one
/// device→host transfer of N·⌈N/8⌉ bytes (3.1 MB for 5,000 boxes) and one host→device transfer of the kept indices,
/// whatever the boxes — no iteration, no data-dependent number of synchronisations, no fallback.
/// IoU uses the host scan's arithmetic (float32 geometry, float64 ratio), so both paths keep the same boxes.
/// Shapes: boxes [N, 4] xyxy, scores [N] → kept indices [K] int64 into the inputs, by descending score (ties: lower
/// index first); memory O(N²) on the device.
/// </summary>
public static class DeviceNms
{
    public static Tensor Run(Tensor boxes, Tensor scores, double iouThreshold)
    {
        using var scope = NewDisposeScope();
        var n = boxes.shape[0];
        if (n == 0) return empty(0, dtype: ScalarType.Int64, device: boxes.device).MoveToOuterDisposeScope();
        var order = scores.sort(descending: true, stable: true).Indices;                    // ties: lower index first
        var b = boxes.index_select(0, order).to_type(ScalarType.Float32);                    // [N, 4], by rank
        var suppresses = OverlapsAbove(b, iouThreshold).triu(1);                              // [N(j), N(i)]: j ranked before i
        var rowBytes = (n + 7) / 8;
        var bits = PackRows(suppresses, rowBytes).cpu().data<byte>().ToArray();              // the one device→host copy
        var kept = GreedyScan(bits, (int)n, (int)rowBytes);
        using var keptOnHost = tensor(kept, dtype: ScalarType.Int64);
        return order.index_select(0, keptOnHost.to(boxes.device)).MoveToOuterDisposeScope();
    }

    /// <summary>[N, N] bool ↦ [N, ⌈N/8⌉] uint8, bit k of byte w of row j = column 8w + k (little-endian bit order).</summary>
    private static Tensor PackRows(Tensor mask, long rowBytes)
    {
        var (rows, columns) = (mask.shape[0], mask.shape[1]);
        var pad = rowBytes * 8 - columns;
        var bytes = mask.to_type(ScalarType.Byte);
        if (pad > 0) bytes = nn.functional.pad(bytes, [0, pad]);
        var bitValues = ones(8, dtype: ScalarType.Byte, device: mask.device)
            .bitwise_left_shift_(arange(8, dtype: ScalarType.Byte, device: mask.device));    // 1, 2, …, 128, made on the device
        return bytes.view(rows, rowBytes, 8).mul_(bitValues).sum([2], type: ScalarType.Byte); // distinct bits: ≤ 255
    }

    /// <summary>Box i (in score order) is kept unless a kept box before it suppresses it; each kept box's row is OR-ed
    /// into the removed set. Rows are upper-triangular, so a row only has bits after its own box.</summary>
    private static long[] GreedyScan(byte[] bits, int n, int rowBytes)
    {
        var removed = new byte[rowBytes];
        var kept = new List<long>();
        for (int i = 0; i < n; i++)
        {
            if ((removed[i >> 3] & (1 << (i & 7))) != 0) continue;
            kept.Add(i);
            var from = i >> 3;
            var row = bits.AsSpan(i * rowBytes + from, rowBytes - from);
            var into = removed.AsSpan(from);
            int k = 0;
            for (; k + Vector<byte>.Count <= row.Length; k += Vector<byte>.Count)
                (new Vector<byte>(into[k..]) | new Vector<byte>(row[k..])).CopyTo(into[k..]);
            for (; k < row.Length; k++) into[k] |= row[k];
        }
        return kept.ToArray();
    }

    /// <summary>[N, N] bool: IoU(j, i) &gt; t with the host scan's arithmetic (<see cref="Nms"/>): intersection, areas and
    /// union in float32, in the same order, the ratio in float64 — so both paths make the same decision for every
    /// pair. In place where it can be: each full N x N pass costs memory bandwidth (100 MB per pass at 5,000 boxes).</summary>
    private static Tensor OverlapsAbove(Tensor b, double threshold)
    {
        using var scope = NewDisposeScope();
        var (x1, y1, x2, y2) = (b[.., 0], b[.., 1], b[.., 2], b[.., 3]);
        var inter = minimum(x2.unsqueeze(1), x2.unsqueeze(0)).sub_(maximum(x1.unsqueeze(1), x1.unsqueeze(0))).clamp_min_(0);
        using (var h = minimum(y2.unsqueeze(1), y2.unsqueeze(0)).sub_(maximum(y1.unsqueeze(1), y1.unsqueeze(0))).clamp_min_(0))
            inter.mul_(h);
        var area = (x2 - x1) * (y2 - y1);
        var union = (area.unsqueeze(1) + area.unsqueeze(0)).sub_(inter).clamp_min_(1e-9f);
        return inter.to_type(ScalarType.Float64).div_(union.to_type(ScalarType.Float64)).gt(threshold)
            .MoveToOuterDisposeScope();
    }
}
