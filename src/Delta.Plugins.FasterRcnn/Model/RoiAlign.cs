using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// RoIAlign (Mask R-CNN, He et al. 2017) as torchvision's roi_align computes it with aligned=True (detectron2's
/// ROIAlignV2: the half-pixel shift below), built from batched gathers (no per-RoI loop), so gradients flow to the
/// features through index_select (backward = index_add). torchvision's own Faster R-CNN (MultiScaleRoIAlign) calls
/// roi_align with aligned=False, which samples half a pixel off from this: heads are trained here from scratch, so
/// this matters only when comparing with, or importing heads from, torchvision's detector.
/// Convention (half-pixel): a box coordinate x in image pixels maps to the continuous feature coordinate
/// x * scale - 0.5, where feature sample k's centre sits at k (pixel k covers [k - 0.5, k + 0.5)). Each of the P x P
/// bins averages s x s bilinear samples at the bin's regular sub-grid centres. Samples outside [-1, H] x [-1, W] are 0;
/// coordinates in [-1, 0) clamp to 0 and beyond H-1 to H-1 (torchvision's roi_align boundary rule).
/// The sampling ratio is fixed (torchvision's detection models use 2), not torchvision's adaptive default.
/// Shapes: features [N, C, H, W]; rois [K, 5] = (batch index, x1, y1, x2, y2) in image pixels → [K, C, P, P].
/// </summary>
public static class RoiAlign
{
    public static Tensor Apply(Tensor features, Tensor rois, int outputSize, double spatialScale, int samplingRatio)
    {
        using var scope = NewDisposeScope();
        long n = features.shape[0], c = features.shape[1], h = features.shape[2], w = features.shape[3], k = rois.shape[0];
        int p = outputSize, s = samplingRatio, g = p * s;
        var dev = features.device;
        if (k == 0) return zeros([0, c, p, p], dtype: features.dtype, device: dev).MoveToOuterDisposeScope();
        var r = rois.to_type(features.dtype);
        var batch = r[.., 0].to_type(ScalarType.Int64);                                  // [K]
        var x1 = r[.., 1] * spatialScale - 0.5; var y1 = r[.., 2] * spatialScale - 0.5;
        var x2 = r[.., 3] * spatialScale - 0.5; var y2 = r[.., 4] * spatialScale - 0.5;
        // Sub-sample centres along one axis, in units of bins: (0.5, 1.5, ...)/s for g = P*s points.
        var t = (arange(g, dtype: features.dtype, device: dev) + 0.5) / s;                 // [G]
        var xs = x1[.., None] + t[None, ..] * ((x2 - x1) / p)[.., None];                  // [K, G]
        var ys = y1[.., None] + t[None, ..] * ((y2 - y1) / p)[.., None];                  // [K, G]
        var (xl, xh, lx, vx) = Axis(xs, w);
        var (yl, yh, ly, vy) = Axis(ys, h);
        // Features as rows of a [N*H*W, C] table; a sample's 4 neighbours are 4 row indices.
        var table = features.permute(0, 2, 3, 1).reshape(n * h * w, c);
        var baseIdx = (batch * (h * w))[.., None, None];                                  // [K, 1, 1]
        Tensor Gather(Tensor yi, Tensor xi) =>                                            // → [K, G, G, C]
            table.index_select(0, (baseIdx + yi[.., .., None] * w + xi[.., None, ..]).reshape(-1)).reshape(k, g, g, c);
        var wy1 = (1 - ly)[.., .., None, None]; var wy2 = ly[.., .., None, None];         // [K, G, 1, 1]
        var wx1 = (1 - lx)[.., None, .., None]; var wx2 = lx[.., None, .., None];         // [K, 1, G, 1]
        var val = Gather(yl, xl) * wy1 * wx1 + Gather(yl, xh) * wy1 * wx2 + Gather(yh, xl) * wy2 * wx1 + Gather(yh, xh) * wy2 * wx2;
        var valid = (vy[.., .., None] * vx[.., None, ..])[.., .., .., None];              // [K, G, G, 1]
        val = val * valid;
        // [K, G, G, C] → [K, P, s, P, s, C] → mean over the s x s samples → [K, C, P, P]
        var pooled = val.reshape(k, p, s, p, s, c).mean([2, 4]).permute(0, 3, 1, 2).contiguous();
        return pooled.MoveToOuterDisposeScope();
    }

    /// <summary>Bilinear neighbours of coordinates [K, G] on an axis of length <paramref name="size"/>:
    /// low/high indices (int64), the fraction towards high, and a validity mask (0 outside [-1, size]).</summary>
    private static (Tensor Low, Tensor High, Tensor Frac, Tensor Valid) Axis(Tensor coord, long size)
    {
        var valid = coord.ge(-1.0).logical_and(coord.le(size)).to_type(coord.dtype);
        var c = coord.clamp(0, size - 1);
        var low = c.floor();
        var high = (low + 1).clamp_max(size - 1);
        var frac = c - low;
        return (low.to_type(ScalarType.Int64), high.to_type(ScalarType.Int64), frac, valid);
    }
}
