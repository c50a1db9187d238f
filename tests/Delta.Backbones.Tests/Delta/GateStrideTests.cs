using Delta.Abstractions.Backbones;
using Delta.Backbones.Delta;
using Delta.Backbones.Registry;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Delta;

/// <summary>Δ_s with a gate stride: the stage input average-pooled before the two convolutions.</summary>
public class GateStrideTests
{
    [Theory]
    [InlineData(2, 8)]
    [InlineData(4, 7)]     // 7x7 → 2x2: partial windows kept, averaged over their real positions
    public void StridedGatesAreTheUnstridedGatesOnTheAveragePooledInput(int stride, int size)
    {
        using var strided = new DeltaGates(inChannels: 6, hiddenChannels: 16, blocks: 3, stride: stride);
        using var plain = new DeltaGates(inChannels: 6, hiddenChannels: 16, blocks: 3);
        using (var g = new Generator(1)) strided.ResetParameters(g);
        using (no_grad()) foreach (var (key, t) in plain.state_dict()) t.copy_(strided.state_dict()[key]);
        strided.eval(); plain.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(new long[] { 2, 6, size, size }, generator: new Generator(2));
        // The pooling written out: window sums over real positions / their counts.
        var ones = ones_like(x);
        var k = new long[] { stride, stride };
        var pooled = nn.functional.avg_pool2d(x, k, k, ceil_mode: true, count_include_pad: false);
        Assert.Equal((size + stride - 1) / stride, pooled.shape[2]);
        var sums = nn.functional.avg_pool2d(x, k, k, ceil_mode: true, count_include_pad: true, divisor_override: 1);
        var counts = nn.functional.avg_pool2d(ones, k, k, ceil_mode: true, count_include_pad: true, divisor_override: 1);
        Assert.True((sums / counts).allclose(pooled, rtol: 1e-6, atol: 1e-6));

        Assert.True(strided.call(x).Equals(plain.call(pooled)));
        Assert.False(strided.call(x).allclose(plain.call(x)));                // it does change what the gates see
    }

    [Fact]
    public void GateStrideKeepsParameterCountsAndIsValidated()
    {
        using var registry = BackboneRegistry.CreateDefault();
        Assert.Equal(registry.CountParameters("resnet50", new DeltaConfig { Stages = 4 }),
            registry.CountParameters("resnet50", new DeltaConfig { Stages = 4, GateStride = 4 }));
        Assert.Contains(new DeltaConfig { GateStride = 0 }.Validate(), p => p.Contains("gateStride"));
        Assert.Empty(new DeltaConfig { GateStride = 4 }.Validate());
    }

    [Fact]
    public void AStridedDeltaNetworkTrainsAndLeavesTheBaseAlone()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(new BackboneRequest
        {
            Architecture = "tiny_bottleneck", Delta = new DeltaConfig { Stages = 4, BatchNorm = false, GateStride = 4 }, Seed = 3,
        });
        var hash = BaseWeightsHash.Compute(backbone.BaseModel);
        using var head = nn.Linear(backbone.NumFeatures, 3);
        using var scope = NewDisposeScope();
        backbone.Train(true);
        var x = TestTensors.Input(3, 32);
        nn.functional.cross_entropy(head.call(backbone.Forward(x).Pooled), tensor(new long[] { 0, 1, 2 })).backward();
        foreach (var (name, p) in backbone.Module.named_parameters())
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} got no gradient");
        Assert.Equal(hash, BaseWeightsHash.Compute(backbone.BaseModel));
        backbone.DeltaEnabled = false;
        using var noGrad = no_grad();
        Assert.True(backbone.BaseModel.call(x).Equals(backbone.Forward(x)["C5"]));
    }
}
