using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Registry;

/// <summary>Reads libtorch's default generator around the registry's work, so it runs alone (in the collection that
/// already does): a test beside it could draw in between.</summary>
[Collection(nameof(ProcessWideTensorCount))]
public sealed class DefaultGeneratorTests
{
    /// <summary>Building architectures (a first load of a base, a cached one, a fine-tuning copy, a parameter count)
    /// leaves the default generator where it was, so heads seeded and built after the backbone draw the same values
    /// whether or not the process had loaded that base before.</summary>
    [Fact]
    public void CreatingBackbonesLeavesTheDefaultGeneratorWhereItWas()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var request = new BackboneRequest { Architecture = "tiny_bottleneck", Weights = "random", Delta = new DeltaConfig { Stages = 2 }, Seed = 4 };
        manual_seed(5);
        using var expected = rand(16);
        foreach (var r in new[] { request, request, request with { TrainableBase = true, Delta = DeltaConfig.None }, request with { Precision = BackbonePrecision.BFloat16, ChannelsLast = true, FoldBatchNorm = true } })
        {
            manual_seed(5);
            using (registry.Create(r)) { }
            using var actual = rand(16);
            Assert.True(expected.Equals(actual), $"creating {r.Architecture} (trainable base: {r.TrainableBase}) moved the default generator");
        }
        manual_seed(5);
        registry.CountParameters("tiny_resnet", new DeltaConfig { Stages = 4 });
        using var afterCount = rand(16);
        Assert.True(expected.Equals(afterCount));
    }
}
