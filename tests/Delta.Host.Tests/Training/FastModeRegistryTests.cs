using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using Delta.Host.Training;

namespace Delta.Host.Tests.Training;

public class FastModeRegistryTests
{
    private static readonly BackboneRequest Frozen = new() { Architecture = "tiny_resnet", Delta = new DeltaConfig { Stages = 1 } };

    [Fact]
    public void FrozenFp32RequestsBecomeBf16ChannelsLastFoldedAndTheRestPassUnchanged()
    {
        var fast = FastModeRegistry.Fast(Frozen);
        Assert.Equal(BackbonePrecision.BFloat16, fast.Precision);
        Assert.True(fast.ChannelsLast);
        Assert.True(fast.FoldBatchNorm);
        Assert.Equal(Frozen with { Precision = BackbonePrecision.BFloat16, ChannelsLast = true, FoldBatchNorm = true }, fast);

        var trainable = Frozen with { TrainableBase = true };
        Assert.Same(trainable, FastModeRegistry.Fast(trainable));               // full fine-tuning stays fp32
        var chosen = Frozen with { Precision = BackbonePrecision.BFloat16 };
        Assert.Same(chosen, FastModeRegistry.Fast(chosen));                     // an explicit choice is kept
        Assert.Equal(BackbonePrecision.Float32, fast.DeltaConvolutions);
        Assert.Equal(fast with { DeltaConvolutions = BackbonePrecision.BFloat16 }, FastModeRegistry.Fast(Frozen, deltaConvolutionsInBf16: true));
        var fixedGates = Frozen with { Delta = new DeltaConfig { Stages = 1, Variant = DeltaVariant.AllSkipsFixed } };
        Assert.Equal(BackbonePrecision.Float32, FastModeRegistry.Fast(fixedGates, deltaConvolutionsInBf16: true).DeltaConvolutions);   // no convs
        var fused = Frozen with { ChannelsLast = true, FoldBatchNorm = true };
        Assert.Same(fused, FastModeRegistry.Fast(fused));
    }

    [Fact]
    public void CreatesFastBackbonesOnTheSameSharedBase()
    {
        using var inner = BackboneRegistry.CreateDefault();
        var registry = new FastModeRegistry(inner);
        using var backbone = (DeltaBackbone)registry.Create(Frozen);
        Assert.Equal(BackbonePrecision.BFloat16, backbone.Precision);
        Assert.True(backbone.ChannelsLast);
        Assert.True(backbone.FoldBatchNorm);
        Assert.Equal(inner.Resolve(Frozen), registry.Resolve(Frozen));
        Assert.Equal(1, inner.SharedBaseCount);
        using var fullFineTuning = (DeltaBackbone)registry.Create(Frozen with { TrainableBase = true });
        Assert.Equal(BackbonePrecision.Float32, fullFineTuning.Precision);
    }
}
