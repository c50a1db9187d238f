using Delta.Abstractions.Backbones;

namespace Delta.Plugins.DeepLabV3.Tests;

internal static class TestBackbones
{
    public static BackboneRequest TinyBottleneck(int outputStride, int deltaStages = 1) => new()
    {
        Architecture = "tiny_bottleneck", Weights = "random", OutputStride = outputStride,
        Delta = new DeltaConfig { Stages = deltaStages }, Seed = 1,
    };
}
