using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>A training batch on the device: Images preprocessed [N, 3, S, S], Labels int64 [N, S, S].</summary>
public sealed record SegmentationBatch(Tensor Images, Tensor Labels) : IDisposable
{
    public void Dispose() { Images.Dispose(); Labels.Dispose(); }
}
