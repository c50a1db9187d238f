using Delta.Abstractions.Backbones;
using Delta.Abstractions.Training;
using Delta.Backbones.Registry;
using Delta.Backbones.Architectures.ConvNeXts;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Architectures;

public class ConvNeXtTests
{
    [Fact]
    public void TinyHasTorchVisionKeysAndParameterCount()
    {
        using var model = new ConvNeXt(ConvNeXtSpec.Tiny);
        var keys = model.state_dict().Keys.ToHashSet();
        foreach (var key in new[]
        {
            "features.0.0.weight", "features.0.0.bias", "features.0.1.weight", "features.0.1.bias",
            "features.1.0.block.0.weight", "features.1.0.block.2.weight", "features.1.0.block.3.weight",
            "features.1.0.block.5.bias", "features.1.0.layer_scale", "features.1.2.layer_scale",
            "features.2.0.weight", "features.2.1.weight", "features.5.8.block.3.weight",
            "features.6.1.bias", "features.7.2.layer_scale", "classifier.0.weight", "classifier.0.bias",
        })
            Assert.Contains(key, keys);
        Assert.Equal(new long[] { 96, 1, 1 }, model.get_parameter("features.1.0.layer_scale")!.shape);
        Assert.Equal(new long[] { 384, 1, 7, 7 }, model.get_parameter("features.5.0.block.0.weight")!.shape);
        // torchvision's convnext_tiny has 28,589,128 parameters; its classifier Linear (768·1000 + 1000 =
        // 769,000) is task-side here.
        Assert.Equal(28_589_128L - 769_000L, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void TinyStagesHaveTheAdvertisedShapes()
    {
        using var model = new ConvNeXt(ConvNeXtSpec.Tiny);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var h = model.ForwardStem(TestTensors.Input(1, 64));
        Assert.Equal(new long[] { 1, 96, 16, 16 }, h.shape);
        var expected = new[] { (96, 16), (192, 8), (384, 4), (768, 2) };
        foreach (var (stage, (c, size)) in model.Stages.Zip(expected))
        {
            h = stage.ForwardPlain(h);
            Assert.Equal(new long[] { 1, c, size, size }, h.shape);
        }
        Assert.Equal(new[] { 3, 3, 9, 3 }, model.Stages.Select(s => s.Blocks.Count));
        Assert.Equal(new long[] { 1, 768 }, model.Pool(h).shape);
        Assert.Null(model.Stages[0].Entry);
        Assert.All(model.Stages.Skip(1), s => Assert.NotNull(s.Entry));
    }

    [Fact]
    public void DropPathRatesRiseLinearlyToTheMaximum()
    {
        using var model = new ConvNeXt(ConvNeXtSpec.Tiny);
        var rates = model.Stages.SelectMany(s => s.Blocks).Cast<CNBlock>().Select(b => b.DropPathRate).ToList();
        Assert.Equal(18, rates.Count);
        Assert.Equal(0.0, rates[0]);
        Assert.Equal(0.1, rates[^1], 12);
        Assert.Equal(0.1 * 9 / 17, rates[9], 12);
    }

    [Fact]
    public void StochasticDepthDropsWholeSamplesInTrainingAndNothingInEval()
    {
        using var drop = new StochasticDepth(0.5);
        using var scope = NewDisposeScope();
        var x = ones(64, 2, 3, 3);
        drop.eval();
        Assert.True(x.Equals(drop.call(x)));
        drop.train();
        Tensor y;
        using (DefaultGenerator.Seeded(0)) y = drop.call(x);                        // its draw, under the lock
        var perSample = y.flatten(1);                                              // [N, 18]
        var max = perSample.max(1).values;
        var min = perSample.min(1).values;
        Assert.True(max.Equals(min));                                              // all-or-nothing per sample
        var kept = max.gt(0).sum().item<long>();
        Assert.InRange(kept, 16, 48);
        Assert.True(max.gt(0).logical_not().logical_or(max.eq(2f)).all().item<bool>());   // survivors scaled by 1/(1−p)
    }

    [Fact]
    public void BlockStartsNearIdentityBecauseOfLayerScale()
    {
        using var block = new CNBlock(8, 0.0);
        block.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = TestTensors.Input(2, 6).repeat(1, 3, 1, 1).narrow(1, 0, 8).contiguous();
        var y = block.call(x);
        Assert.False(y.Equals(x));
        Assert.True(y.allclose(x, rtol: 0, atol: 1e-4));
    }

    [Fact]
    public void LayerNorm2dNormalisesEachPixelOverChannels()
    {
        using var ln = new LayerNorm2d(4);
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, 2, 3, 4 }).reshape(1, 4, 1, 1);
        var y = ln.call(x).flatten();
        var std = Math.Sqrt(1.25 + 1e-6);                                          // biased variance of 1..4
        Assert.True(y.allclose(tensor(new float[] { (float)(-1.5 / std), (float)(-0.5 / std), (float)(0.5 / std), (float)(1.5 / std) }), atol: 1e-6));
    }

    /// <summary>A trainable ConvNeXt copy (full fine-tuning) draws its drop-path masks from a generator of the task's,
    /// seeded from the request: the same seed gives the same training-mode output whatever libtorch's default generator
    /// holds, and the generator is among the backbone's Generators (checkpointed with the task).</summary>
    [Fact]
    public void ATrainableCopysDropPathDrawsFromTheTasksOwnGenerator()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var request = new BackboneRequest { Architecture = "tiny_convnext", Delta = DeltaConfig.None, TrainableBase = true, Seed = 3 };
        Tensor TrainingOutput(long defaultSeed)
        {
            using var backbone = registry.CreateDelta(request);
            Assert.Single(backbone.Generators);
            backbone.Train(true);
            using (DefaultGenerator.Seeded(defaultSeed)) { }                           // another state of the default generator
            using var noGrad = no_grad();
            return backbone.Forward(TestTensors.Input(8, 32)).Pooled.clone();
        }
        using var scope = NewDisposeScope();
        var a = TrainingOutput(1);
        var b = TrainingOutput(2);
        Assert.True(a.Equals(b), "drop-path draws depended on the default generator");
        using var frozen = registry.CreateDelta(request with { TrainableBase = false, Delta = new DeltaConfig { Stages = 1 } });
        Assert.Empty(frozen.Generators);                                               // a frozen base never drops paths
    }
}
