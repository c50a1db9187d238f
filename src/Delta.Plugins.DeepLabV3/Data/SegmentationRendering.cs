using Delta.Data.Images;
using Delta.Data.Voc;
using OpenCvSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>Pictures of segmentations: VOC-palette colouring of a label map and a 50 % blend over the image.</summary>
public static class SegmentationRendering
{
    /// <summary>The VOC colour map as 256 flat RGB triples.</summary>
    private static readonly byte[] PaletteRgb = VocClasses.ColorMap.SelectMany(c => new[] { c.R, c.G, c.B }).ToArray();

    /// <summary>label int [H, W] → float RGB [3, H, W] in [0, 1] with the VOC colours (void = its cream colour).</summary>
    public static Tensor Colourise(Tensor label)
    {
        using var scope = NewDisposeScope();
        var palette = tensor(PaletteRgb, [256, 3], device: label.device).to_type(ScalarType.Float32).div_(255f); // [256, 3]
        var index = label.to_type(ScalarType.Int64).clamp(0, 255);
        return palette[index].permute(2, 0, 1).contiguous().MoveToOuterDisposeScope();           // [H, W, 3] → [3, H, W]
    }

    /// <summary>Writes image | ground-truth overlay | prediction overlay side by side (ground truth optional) as PNG.</summary>
    public static void WriteOverlay(string path, Tensor imageRgb01, Tensor prediction, Tensor? truth = null)
    {
        using var scope = NewDisposeScope();
        var image = imageRgb01.cpu();
        var panels = new List<Tensor> { image };
        if (truth is not null) panels.Add(Blend(image, truth.cpu()));
        panels.Add(Blend(image, prediction.cpu()));
        using var mat = ImageCodec.RgbTensorToMat(cat(panels.ToArray(), 2));
        ImageCodec.WritePng(path, mat);
    }

    private static Tensor Blend(Tensor image, Tensor label) => image * 0.5 + Colourise(label) * 0.5;
}
