using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using Delta.Host.Training;

namespace Delta.Host.Tests.Training;

public class FrozenBaseModeRegistryTests
{
    private static readonly BackboneRequest Frozen = new() { Architecture = "tiny_resnet", Delta = new DeltaConfig { Stages = 1 } };

    [Fact]
    public void EachModeMapsAnExactFrozenRequestAndLeavesTheRestAlone()
    {
        Assert.Same(Frozen, FrozenBaseModeRegistry.Apply(Frozen, FrozenBaseMode.Exact));
        Assert.Equal(Frozen with { ChannelsLast = true, FoldBatchNorm = true }, FrozenBaseModeRegistry.Apply(Frozen, FrozenBaseMode.Fused));
        var fast = Frozen with { Precision = BackbonePrecision.BFloat16, ChannelsLast = true, FoldBatchNorm = true };
        Assert.Equal(fast, FrozenBaseModeRegistry.Apply(Frozen, FrozenBaseMode.Fast));
        Assert.Equal(fast with { DeltaConvolutions = BackbonePrecision.BFloat16 }, FrozenBaseModeRegistry.Apply(Frozen, FrozenBaseMode.FastDeltaBf16));
        var fixedGates = Frozen with { Delta = new DeltaConfig { Stages = 1, Variant = DeltaVariant.AllSkipsFixed } };
        Assert.Equal(BackbonePrecision.Float32, FrozenBaseModeRegistry.Apply(fixedGates, FrozenBaseMode.FastDeltaBf16).DeltaConvolutions);   // no convs
        Assert.Equal(fast with { DeltaConvolutions = BackbonePrecision.BFloat16, DeltaSkipSums = BackbonePrecision.BFloat16 },
            FrozenBaseModeRegistry.Apply(Frozen, FrozenBaseMode.FastAutocast));
        var fixedAutocast = FrozenBaseModeRegistry.Apply(fixedGates, FrozenBaseMode.FastAutocast);   // skip sums, but no convs
        Assert.Equal((BackbonePrecision.Float32, BackbonePrecision.BFloat16), (fixedAutocast.DeltaConvolutions, fixedAutocast.DeltaSkipSums));

        var trainable = Frozen with { TrainableBase = true, Delta = DeltaConfig.None };                     // full fine-tuning stays exact fp32
        foreach (var mode in Enum.GetValues<FrozenBaseMode>()) Assert.Same(trainable, FrozenBaseModeRegistry.Apply(trainable, mode));
        var chosen = Frozen with { Precision = BackbonePrecision.BFloat16 };        // an explicit choice is kept
        Assert.Same(chosen, FrozenBaseModeRegistry.Apply(chosen, FrozenBaseMode.Fused));
    }

    [Theory]
    [InlineData(FrozenBaseMode.Fused, BackbonePrecision.Float32)]
    [InlineData(FrozenBaseMode.Fast, BackbonePrecision.BFloat16)]
    [InlineData(FrozenBaseMode.FastAutocast, BackbonePrecision.BFloat16)]
    public void CreatesDerivedBackbonesOnTheSameSharedBase(FrozenBaseMode mode, BackbonePrecision precision)
    {
        using var inner = BackboneRegistry.CreateDefault();
        var registry = new FrozenBaseModeRegistry(inner, mode);
        using var backbone = (DeltaBackbone)registry.Create(Frozen);
        Assert.Equal(precision, backbone.Precision);
        Assert.True(backbone.ChannelsLast);
        Assert.True(backbone.FoldBatchNorm);
        Assert.False(backbone.IsExact);
        Assert.Equal(inner.Resolve(Frozen), registry.Resolve(Frozen));
        Assert.Equal(1, inner.SharedBaseCount);
        using var fullFineTuning = (DeltaBackbone)registry.Create(Frozen with { TrainableBase = true, Delta = DeltaConfig.None });
        Assert.True(fullFineTuning.IsExact);
    }
}
