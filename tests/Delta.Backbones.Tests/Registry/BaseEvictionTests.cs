using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using Delta.Backbones.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Registry;

/// <summary>A weights file rewritten at the same path (a long-running host handed new weights): the registry loads the new
/// content and lets go of the old base, freeing it when nothing that runs on it is left, never before.</summary>
public sealed class BaseEvictionTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-evict-").FullName;
    private string WeightsPath => Path.Combine(dir, "w.safetensors");
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private BackboneRequest FromFile(bool foldBatchNorm = false) => new()
    {
        Architecture = "tiny_resnet",
        Weights = WeightsPath,
        Delta = new DeltaConfig { Stages = 2, BatchNorm = false },
        Seed = 3,
        FoldBatchNorm = foldBatchNorm,
    };

    /// <summary>Writes tiny_resnet's "random" weights plus <paramref name="version"/> / 4 to the file, stamped
    /// <paramref name="version"/> seconds into 2024: every version has the same length, so only the stamp tells them apart.</summary>
    private void WriteWeights(int version)
    {
        using var source = BackboneRegistry.CreateDefault();
        using var scope = NewDisposeScope();
        var state = source.GetBase(new BackboneRequest { Architecture = "tiny_resnet" }).Model.state_dict();
        StateDictFile.Write(WeightsPath, state.ToDictionary(kv => kv.Key, kv => kv.Value.dtype == ScalarType.Float32 ? kv.Value + version / 4f : kv.Value.clone()));
        File.SetLastWriteTimeUtc(WeightsPath, new DateTime(2024, 1, 1, 0, 0, version, DateTimeKind.Utc));
    }

    private static Tensor Pooled(DeltaBackbone backbone, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return backbone.Forward(x).Pooled.MoveToOuterDisposeScope();
    }

    [Fact]
    public void ARewrittenFileIsLoadedAnewAndTheOldBaseIsFreedWithItsLastBackbone()
    {
        using var registry = BackboneRegistry.CreateDefault();
        WriteWeights(1);
        using var old = registry.CreateDelta(FromFile());
        var oldBase = registry.GetBase(FromFile());
        var oldParameter = old.BaseModel.parameters().First();
        using var x = TestTensors.Input(2, 32);
        using var before = Pooled(old, x);

        WriteWeights(2);
        using var fresh = registry.CreateDelta(FromFile());
        Assert.NotEqual(old.Base.WeightsSha256, fresh.Base.WeightsSha256);
        Assert.NotSame(old.BaseModel, fresh.BaseModel);
        Assert.Same(fresh.BaseModel, registry.GetBase(FromFile()).Model);   // out of the cache: no new request gets the old one
        Assert.Equal(2, registry.SharedBaseCount);                          // ... but it lives on for the backbone on it

        using (var after = Pooled(old, x)) Assert.True(before.Equals(after));
        Assert.False(oldBase.IsFreed);

        old.Dispose();
        Assert.True(oldBase.IsFreed);
        Assert.True(oldParameter.IsInvalid);                                 // the tensors themselves, not only a flag
        Assert.Equal(1, registry.SharedBaseCount);
        Assert.False(registry.GetBase(FromFile()).IsFreed);
        using (var scope = NewDisposeScope()) Assert.Equal(2, fresh.Forward(x)["C5"].shape[0]);
    }

    /// <summary>Every holder counts: two backbones (one on a derived fused copy of the base) and a lease keep the evicted
    /// base and its copy working until the last of them is gone; a fine-tuning copy does not run on the base and does not
    /// keep it.</summary>
    [Fact]
    public void AnEvictedBaseStaysWhileAnyBackboneOrLeaseStillUsesIt()
    {
        using var registry = BackboneRegistry.CreateDefault();
        WriteWeights(1);
        var first = registry.CreateDelta(FromFile());
        var fused = registry.CreateDelta(FromFile(foldBatchNorm: true));
        var lease = registry.AcquireBase(FromFile());
        using var fineTuned = registry.CreateDelta(FromFile() with { TrainableBase = true, Delta = DeltaConfig.None });
        try
        {
            Assert.Same(first.BaseModel, fused.BaseModel);
            Assert.Same(first.BaseModel, lease.Model);
            var oldBase = lease.Base;
            var copyParameter = fused.FrozenCopy!.parameters().First();
            using var x = TestTensors.Input(2, 32);
            using var fusedBefore = Pooled(fused, x);
            using var fineTunedBefore = Pooled(fineTuned, x);

            WriteWeights(2);
            using var fresh = registry.CreateDelta(FromFile());
            Assert.NotSame(oldBase, registry.GetBase(FromFile()));

            first.Dispose();
            Assert.False(oldBase.IsFreed);
            using (var after = Pooled(fused, x)) Assert.True(fusedBefore.Equals(after));

            fused.Dispose();
            Assert.False(oldBase.IsFreed);
            Assert.False(copyParameter.IsInvalid);                          // freed with the base, not before
            Assert.Equal(2, registry.SharedBaseCount);

            lease.Dispose();
            lease.Dispose();                                                // a lease gives its reference back once
            Assert.True(oldBase.IsFreed);
            Assert.True(copyParameter.IsInvalid);
            Assert.Equal(1, registry.SharedBaseCount);
            using (var after = Pooled(fineTuned, x)) Assert.True(fineTunedBefore.Equals(after));
        }
        finally
        {
            first.Dispose();
            fused.Dispose();
            lease.Dispose();
        }
    }

    [Fact]
    public void DisposingTheRegistryFreesEvictedBasesThatAreStillLeased()
    {
        var registry = BackboneRegistry.CreateDefault();
        WriteWeights(1);
        using var lease = registry.AcquireBase(FromFile());
        WriteWeights(2);
        var fresh = registry.GetBase(FromFile());
        Assert.Equal(2, registry.SharedBaseCount);

        registry.Dispose();
        Assert.True(lease.Base.IsFreed);
        Assert.True(fresh.IsFreed);
        Assert.Equal(0, registry.SharedBaseCount);
    }
}
