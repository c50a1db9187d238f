using Delta.Abstractions.Backbones;
using Delta.Backbones.Autograd;
using Delta.Backbones.Registry;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Registry;

[CollectionDefinition(nameof(ProcessWideTensorCount), DisableParallelization = true)]
public sealed class ProcessWideTensorCount;

/// <summary>Live-tensor accounting is process-wide, so this runs alone.</summary>
[Collection(nameof(ProcessWideTensorCount))]
public class DeltaBackboneMemoryTests
{
    /// <summary>Every kind of frozen-layer node: ConvNeXt (libtorch's own nodes), BasicBlock and Bottleneck ResNets
    /// (the activation-free conv units, masked ReLUs, gated skip-BN nodes with the recomputed first source), exact and
    /// fast (bf16, channels-last, folded) bases, with and without <see cref="FrozenLayerBackward.SingleBackward"/> (what
    /// the trainer runs under).</summary>
    [Theory]
    [InlineData("tiny_convnext", 2, false, false)]
    [InlineData("tiny_resnet", 4, false, false)]
    [InlineData("tiny_resnet", 4, false, true)]
    [InlineData("tiny_bottleneck", 4, false, true)]
    [InlineData("tiny_bottleneck", 4, true, true)]
    [InlineData("tiny_bottleneck", 4, true, false)]
    public void TrainStepsInsideADisposeScopeLeaveNoLiveTensorsBehind(string architecture, int stages, bool fast, bool singleBackward)
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(new BackboneRequest
        {
            Architecture = architecture,
            Delta = new DeltaConfig { Stages = stages },
            Precision = fast ? BackbonePrecision.BFloat16 : BackbonePrecision.Float32, ChannelsLast = fast, FoldBatchNorm = fast,
        });
        backbone.ReturnGates = true;
        backbone.Train(true);
        using var head = TestTensors.Head(backbone.NumFeatures, 2);
        using var optimizer = optim.AdamW(backbone.TrainableParameters.Concat(head.parameters()).ToList(), lr: 1e-3);
        using var x = TestTensors.Input(2, 32);
        using var y = tensor(new long[] { 0, 1 });

        void Step()
        {
            using var scope = NewDisposeScope();
            using var single = singleBackward ? FrozenLayerBackward.SingleBackward() : null;
            optimizer.zero_grad();
            var f = backbone.Forward(x);
            nn.functional.cross_entropy(head.call(f.Pooled), y).backward();
            optimizer.step();
        }

        for (int i = 0; i < 3; i++) Step();   // optimizer state and gradients exist from here on
        // Counted per thread by TorchSharp, created minus disposed on this thread: a tensor that is never disposed stays
        // counted even when the GC finalizes it (on the finalizer thread), which Tensor.TotalCount would not show.
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 20; i++) Step();
        var leaked = DisposeScopeManager.Statistics.ThreadTotalLiveCount - before;
        Assert.True(leaked == 0, $"{leaked} tensors created and not disposed over 20 steps");
    }
}
