using Delta.Data.Voc;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>
/// DeepLab training augmentation on tensors: random scale in [<see cref="MinScale"/>, <see cref="MaxScale"/>]
/// (bilinear for the image, nearest for labels so no new class values appear), pad to at least the crop size
/// (image with <see cref="ImagePad"/> — 0 on a normalised image is the dataset mean — and labels with 255 so padding
/// never counts), random crop, random horizontal flip. Image [3, H, W] float, label [H, W] int64 → [3, S, S], [S, S].
/// </summary>
public sealed class SegmentationAugmentation(int cropSize, double minScale = 0.5, double maxScale = 2.0, bool flip = true, int seed = 0, float imagePad = 0f)
{
    private readonly Random random = new(seed);

    public int CropSize { get; } = cropSize;
    public double MinScale { get; } = minScale;
    public double MaxScale { get; } = maxScale;
    public float ImagePad { get; } = imagePad;

    public (Tensor Image, Tensor Label) Apply(Tensor image, Tensor label)
    {
        using var scope = NewDisposeScope();
        var scale = MinScale + random.NextDouble() * (MaxScale - MinScale);
        long h = Math.Max(1, (long)Math.Round(image.shape[1] * scale)), w = Math.Max(1, (long)Math.Round(image.shape[2] * scale));
        var img = nn.functional.interpolate(image.unsqueeze(0), size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false).squeeze(0);
        var lab = nn.functional.interpolate(label.unsqueeze(0).unsqueeze(0).to_type(ScalarType.Float32), size: [h, w], mode: InterpolationMode.Nearest)
            .squeeze(0).squeeze(0).to_type(ScalarType.Int64);
        (img, lab) = PadTo(img, lab, CropSize, ImagePad);
        h = img.shape[1]; w = img.shape[2];
        long top = random.NextInt64(h - CropSize + 1), left = random.NextInt64(w - CropSize + 1);
        img = img[.., TensorIndex.Slice(top, top + CropSize), TensorIndex.Slice(left, left + CropSize)];
        lab = lab[TensorIndex.Slice(top, top + CropSize), TensorIndex.Slice(left, left + CropSize)];
        if (random.NextDouble() < 0.5 && flip) { img = img.flip(2); lab = lab.flip(1); }
        return (img.contiguous().MoveToOuterDisposeScope(), lab.contiguous().MoveToOuterDisposeScope());
    }

    /// <summary>Pads bottom/right to at least <paramref name="size"/> (image with <paramref name="imagePad"/>, label with 255).</summary>
    public static (Tensor Image, Tensor Label) PadTo(Tensor image, Tensor label, int size, float imagePad)
    {
        long padH = Math.Max(0, size - image.shape[1]), padW = Math.Max(0, size - image.shape[2]);
        if (padH == 0 && padW == 0) return (image.alias(), label.alias());
        var padding = new long[] { 0, padW, 0, padH };
        return (nn.functional.pad(image, padding, TorchSharp.PaddingModes.Constant, imagePad),
                nn.functional.pad(label, padding, TorchSharp.PaddingModes.Constant, VocClasses.Void));
    }
}
