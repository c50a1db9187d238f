using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>One image and its label map: Image float RGB [3, H, W] in [0, 1]; Label int64 [H, W] in 0..20 or 255.</summary>
public sealed record SegmentationSample(string Id, Tensor Image, Tensor Label) : IDisposable
{
    public void Dispose() { Image.Dispose(); Label.Dispose(); }
}
