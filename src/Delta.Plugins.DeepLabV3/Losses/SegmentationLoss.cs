using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Losses;

/// <summary>
/// Pixel-wise cross entropy over labelled pixels; <see cref="IgnoreIndex"/> (255, VOC's void border) is skipped.
/// libtorch's mean over zero labelled pixels is 0/0 = NaN, which would stop training on a crop that happened
/// to land on void only. Here the loss is Σ per-pixel CE / max(1, #labelled): equal to the mean when any pixel
/// is labelled, and an exact zero that still belongs to the graph when none is (backward gives zero gradients).
/// No host synchronisation: the guard is arithmetic, not a branch on a device value.
/// </summary>
public static class SegmentationLoss
{
    public const int IgnoreIndex = 255;

    /// <summary>logits [N, C, H, W], target [N, H, W] int64 with values in [0, C) or 255.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target)
    {
        if (logits.dim() != 4 || target.dim() != 3 || logits.shape[0] != target.shape[0]
            || logits.shape[2] != target.shape[1] || logits.shape[3] != target.shape[2])
            throw new ArgumentException($"Expected logits [N, C, H, W] and target [N, H, W]; got [{string.Join(", ", logits.shape)}] and [{string.Join(", ", target.shape)}].");
        using var scope = NewDisposeScope();
        var perPixel = nn.functional.cross_entropy(logits, target, ignore_index: IgnoreIndex, reduction: nn.Reduction.None); // [N, H, W], 0 where ignored
        var labelled = target.ne(IgnoreIndex).sum().to_type(logits.dtype).clamp_min(1.0);
        return (perPixel.sum() / labelled).MoveToOuterDisposeScope();
    }
}
