using Delta.Abstractions.Backbones;
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
    [Fact]
    public void TrainStepsInsideADisposeScopeLeaveNoLiveTensorsBehind()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(new BackboneRequest
        {
            Architecture = "tiny_convnext",
            Delta = new DeltaConfig { Stages = 2 },
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
            optimizer.zero_grad();
            var f = backbone.Forward(x);
            nn.functional.cross_entropy(head.call(f.Pooled), y).backward();
            optimizer.step();
        }

        for (int i = 0; i < 3; i++) Step();   // optimizer state and gradients exist from here on
        GC.Collect(); GC.WaitForPendingFinalizers();
        var before = Tensor.TotalCount;
        for (int i = 0; i < 20; i++) Step();
        GC.Collect(); GC.WaitForPendingFinalizers();
        Assert.InRange(Tensor.TotalCount - before, -5, 5);
    }
}
