using static TorchSharp.torch;

namespace Delta.Data.Transforms;

/// <summary>The central <see cref="Height"/> x <see cref="Width"/> window (torchvision: top = round((H − h) / 2)).
/// An image smaller than the window is zero-padded around, as torchvision does.</summary>
public sealed class CenterCrop(int height, int width) : IImageTransform
{
    public CenterCrop(int size) : this(size, size) { }

    public int Height { get; } = height > 0 ? height : throw new ArgumentOutOfRangeException(nameof(height));
    public int Width { get; } = width > 0 ? width : throw new ArgumentOutOfRangeException(nameof(width));

    public Tensor Apply(Tensor chw, Random rng)
    {
        int h = (int)chw.shape[1], w = (int)chw.shape[2];
        using var scope = NewDisposeScope();
        var x = chw;
        if (h < Height || w < Width)
        {
            int padH = Math.Max(0, Height - h), padW = Math.Max(0, Width - w);
            x = nn.functional.pad(x, [padW / 2, (padW + 1) / 2, padH / 2, (padH + 1) / 2]);   // (left, right, top, bottom)
            h = (int)x.shape[1]; w = (int)x.shape[2];
        }
        var top = (int)Math.Round((h - Height) / 2.0, MidpointRounding.ToEven);
        var left = (int)Math.Round((w - Width) / 2.0, MidpointRounding.ToEven);
        return x[.., top..(top + Height), left..(left + Width)].contiguous().MoveToOuterDisposeScope();
    }
}
