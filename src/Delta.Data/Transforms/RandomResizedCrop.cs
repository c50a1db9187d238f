using static TorchSharp.torch;

namespace Delta.Data.Transforms;

/// <summary>
/// torchvision's RandomResizedCrop: a window covering a random share of the area in <see cref="Scale"/> with a
/// log-uniform aspect ratio in <see cref="Ratio"/> (10 tries; then a central crop clamped to the ratio range),
/// resized to <see cref="Size"/> x <see cref="Size"/>.
/// </summary>
public sealed class RandomResizedCrop(int size, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null) : IImageTransform
{
    public int Size { get; } = size > 0 ? size : throw new ArgumentOutOfRangeException(nameof(size));
    public (double Min, double Max) Scale { get; } = scale ?? (0.08, 1.0);
    public (double Min, double Max) Ratio { get; } = ratio ?? (3.0 / 4.0, 4.0 / 3.0);

    public Tensor Apply(Tensor chw, Random rng)
    {
        var (top, left, h, w) = GetParams((int)chw.shape[1], (int)chw.shape[2], rng, Scale, Ratio);
        using var window = chw[.., top..(top + h), left..(left + w)];
        return Resize.To(window, Size, Size);
    }

    /// <summary>The crop window (top, left, height, width) exactly as torchvision's <c>get_params</c> chooses it.</summary>
    public static (int Top, int Left, int Height, int Width) GetParams(int height, int width, Random rng, (double Min, double Max) scale, (double Min, double Max) ratio)
    {
        double area = (double)height * width;
        double logMin = Math.Log(ratio.Min), logMax = Math.Log(ratio.Max);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            var targetArea = area * (scale.Min + (scale.Max - scale.Min) * rng.NextDouble());
            var aspect = Math.Exp(logMin + (logMax - logMin) * rng.NextDouble());
            var w = (int)Math.Round(Math.Sqrt(targetArea * aspect), MidpointRounding.ToEven);
            var h = (int)Math.Round(Math.Sqrt(targetArea / aspect), MidpointRounding.ToEven);
            if (w > 0 && w <= width && h > 0 && h <= height)
                return (rng.Next(height - h + 1), rng.Next(width - w + 1), h, w);
        }
        // Fallback: the whole image, trimmed to the nearest allowed aspect ratio, centred.
        var inRatio = (double)width / height;
        int fw, fh;
        if (inRatio < ratio.Min) { fw = width; fh = (int)Math.Round(fw / ratio.Min, MidpointRounding.ToEven); }
        else if (inRatio > ratio.Max) { fh = height; fw = (int)Math.Round(fh * ratio.Max, MidpointRounding.ToEven); }
        else { fw = width; fh = height; }
        return ((height - fh) / 2, (width - fw) / 2, fh, fw);
    }
}
