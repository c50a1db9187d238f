using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// Box utilities. Boxes are xyxy in continuous pixel coordinates: pixel (i, j) covers [j, j+1) x [i, i+1),
/// so a box's width is x2 - x1 (no "+1"; the VOC 1-based convention is converted only at the data boundary).
/// Shapes: boxes [N, 4], [M, 4] → IoU [N, M].
/// </summary>
public static class BoxOps
{
    public static Tensor Area(Tensor boxes) => (boxes[.., 2] - boxes[.., 0]).clamp_min(0) * (boxes[.., 3] - boxes[.., 1]).clamp_min(0);

    public static Tensor Iou(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var lt = maximum(a[.., None, ..2], b[None, .., ..2]);   // [N, M, 2]
        var rb = minimum(a[.., None, 2..], b[None, .., 2..]);   // [N, M, 2]
        var wh = (rb - lt).clamp_min(0);
        var inter = wh[.., .., 0] * wh[.., .., 1];               // [N, M]
        var union = Area(a)[.., None] + Area(b)[None, ..] - inter;
        return (inter / union.clamp_min(1e-9)).MoveToOuterDisposeScope();
    }

    /// <summary>Clips boxes [N, 4] to an image of the given height and width.</summary>
    public static Tensor Clip(Tensor boxes, long height, long width)
    {
        using var scope = NewDisposeScope();
        var x = boxes[.., TensorIndex.Slice(0, null, 2)].clamp(0, width);
        var y = boxes[.., TensorIndex.Slice(1, null, 2)].clamp(0, height);
        return stack([x[.., 0], y[.., 0], x[.., 1], y[.., 1]], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Mask [N] of boxes whose sides are at least <paramref name="minSize"/>.</summary>
    public static Tensor NotSmall(Tensor boxes, double minSize) =>
        (boxes[.., 2] - boxes[.., 0] >= minSize).logical_and(boxes[.., 3] - boxes[.., 1] >= minSize);
}
