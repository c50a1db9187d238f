using static TorchSharp.torch;

namespace Delta.Data.Transforms;

/// <summary>Resizes to exactly <see cref="Height"/> x <see cref="Width"/>: bilinear when enlarging, area averaging when
/// shrinking (bilinear without anti-aliasing aliases badly on large reductions).</summary>
public sealed class Resize(int height, int width) : IImageTransform
{
    public Resize(int size) : this(size, size) { }

    public int Height { get; } = height > 0 ? height : throw new ArgumentOutOfRangeException(nameof(height));
    public int Width { get; } = width > 0 ? width : throw new ArgumentOutOfRangeException(nameof(width));

    public Tensor Apply(Tensor chw, Random rng) => To(chw, Height, Width);

    /// <summary>[C, h, w] → [C, height, width] in [0, 1].</summary>
    public static Tensor To(Tensor chw, int height, int width)
    {
        if (chw.shape[1] == height && chw.shape[2] == width) return chw.clone();
        using var scope = NewDisposeScope();
        var shrinking = chw.shape[1] >= height && chw.shape[2] >= width;
        var mode = shrinking ? InterpolationMode.Area : InterpolationMode.Bilinear;
        var y = shrinking
            ? nn.functional.interpolate(chw.unsqueeze(0), [height, width], mode: mode)
            : nn.functional.interpolate(chw.unsqueeze(0), [height, width], mode: mode, align_corners: false);
        return y.squeeze(0).clamp_(0, 1).MoveToOuterDisposeScope();
    }
}
