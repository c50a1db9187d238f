namespace Delta.Backbones.Architectures.ConvNeXts;

/// <summary>ConvNeXt shape: blocks and channels per stage, and the maximum drop-path rate (reached by the
/// last block; rates rise linearly from 0 over all blocks, as in torchvision).</summary>
public sealed record ConvNeXtSpec(IReadOnlyList<int> Depths, IReadOnlyList<int> Dims, double StochasticDepthProbability = 0.1)
{
    public static ConvNeXtSpec Tiny { get; } = new(new[] { 3, 3, 9, 3 }, new[] { 96, 192, 384, 768 }, 0.1);
}
