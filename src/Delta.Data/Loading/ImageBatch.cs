using static TorchSharp.torch;

namespace Delta.Data.Loading;

/// <summary>A batch the train loop owns and disposes: images [N, 3, H, W] (preprocessed, on the device) and labels [N] int64.</summary>
public sealed class ImageBatch(Tensor images, Tensor labels) : IDisposable
{
    public Tensor Images { get; } = images;
    public Tensor Labels { get; } = labels;
    public int Count => (int)Labels.shape[0];
    public void Dispose() { Images.Dispose(); Labels.Dispose(); }
}
