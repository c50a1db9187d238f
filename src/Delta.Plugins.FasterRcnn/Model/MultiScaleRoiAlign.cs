using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// RoIAlign over FPN levels: each RoI goes to level k = ⌊k0 + log2(√(wh) / 224)⌋ clamped to the available levels
/// (FPN paper eq. 1, k0 = 4, canonical size 224), then is pooled from that level only.
/// One gather per level (not per RoI); results are scattered back into the RoIs' original order.
/// Shapes: levels P_k [N, C, H_k, W_k] with strides; rois [K, 5] → [K, C, P, P].
/// </summary>
public sealed class MultiScaleRoiAlign(IReadOnlyList<int> strides, int outputSize = 7, int samplingRatio = 2)
{
    public int OutputSize => outputSize;

    public Tensor Apply(IReadOnlyList<Tensor> levels, Tensor rois)
    {
        using var scope = NewDisposeScope();
        if (levels.Count != strides.Count) throw new ArgumentException($"Expected {strides.Count} levels, got {levels.Count}.");
        if (levels.Count == 1) return RoiAlign.Apply(levels[0], rois, outputSize, 1.0 / strides[0], samplingRatio).MoveToOuterDisposeScope();
        double kMin = Math.Log2(strides[0]), kMax = Math.Log2(strides[^1]);
        var level = LevelOf(rois, kMin, kMax);                                               // [K] in 0..L-1
        var c = levels[0].shape[1];
        var result = zeros([rois.shape[0], c, outputSize, outputSize], dtype: levels[0].dtype, device: levels[0].device);
        for (int l = 0; l < levels.Count; l++)
        {
            var idx = level.eq(l).nonzero().flatten();
            if (idx.shape[0] == 0) continue;
            var pooled = RoiAlign.Apply(levels[l], rois.index_select(0, idx), outputSize, 1.0 / strides[l], samplingRatio);
            result = result.index_copy(0, idx, pooled);   // out-of-place so autograd sees every level
        }
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Level index (0 = finest given level) per RoI [K, 5].</summary>
    public static Tensor LevelOf(Tensor rois, double kMin, double kMax)
    {
        using var scope = NewDisposeScope();
        var area = (rois[.., 3] - rois[.., 1]) * (rois[.., 4] - rois[.., 2]);
        var k = (4 + (area.clamp_min(1e-6).sqrt() / 224).log2() + 1e-6).floor().clamp(kMin, kMax);
        return (k - kMin).to_type(ScalarType.Int64).MoveToOuterDisposeScope();
    }
}
