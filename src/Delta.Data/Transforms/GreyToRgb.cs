using static TorchSharp.torch;

namespace Delta.Data.Transforms;

/// <summary>One grey channel → three equal channels (pretrained backbones take RGB); RGB passes through.</summary>
public sealed class GreyToRgb : IImageTransform
{
    public Tensor Apply(Tensor chw, Random rng) => chw.shape[0] switch
    {
        1 => chw.expand(3, -1, -1).contiguous(),
        3 => chw.clone(),
        var c => throw new ArgumentException($"Expected 1 or 3 channels, got {c}."),
    };
}
