using Delta.Backbones.Autograd;
using Delta.Backbones.Delta;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Autograd;

/// <summary>The skip BN node that recomputes S_j in backward (<see cref="GatedSkipBatchNormFunction"/>), against
/// libtorch's mul/add/BatchNorm nodes on the same inputs.</summary>
public class GatedSkipBatchNormTests
{
    private static double RelativeMaxError(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        var (a, e) = (actual.to_type(ScalarType.Float64), expected.to_type(ScalarType.Float64));
        return (a - e).abs().max().item<double>() / Math.Max(1e-300, e.abs().max().item<double>());
    }

    private sealed record Run(Tensor Output, Tensor RunningMean, Tensor RunningVar, Tensor[] Gradients);

    private static Run Execute(bool standard, Tensor gatesInit, Tensor[] sourcesInit, Tensor weight, ScalarType dtype)
    {
        using var libtorchNodes = standard ? FrozenLayerBackward.Standard() : null;
        var bn = nn.BatchNorm2d(sourcesInit[0].shape[1], dtype: dtype);
        using (no_grad()) { bn.weight!.copy_(linspace(0.5, 1.5, bn.weight.shape[0])); bn.bias!.copy_(linspace(-0.2, 0.3, bn.weight.shape[0])); }
        bn.train();
        var gates = gatesInit.to_type(dtype).detach().requires_grad_(true);
        var sources = sourcesInit.Select(s => s.to_type(dtype).detach().requires_grad_(true)).ToArray();
        var y = standard
            ? bn.call(GatedSkipSum.Of(gates, sources))
            : GatedSkipBatchNormFunction.Apply(gates, sources, bn);
        (y * weight.to_type(dtype)).sum().backward();
        return new Run(y.detach(), bn.running_mean!.clone(), bn.running_var!.clone(),
            [gates.grad!, bn.weight!.grad!, bn.bias!.grad!, .. sources.Select(s => s.grad!)]);
    }

    [Fact]
    public void MatchesLibtorchsNodesInFloat64AndKeepsTheSameRunningStatistics()
    {
        // float64 makes summation order irrelevant, so any difference left is a wrong formula.
        using var scope = NewDisposeScope();
        using var g = new Generator(13);
        var gates = rand(new long[] { 3, 3 }, generator: g);
        var sources = Enumerable.Range(0, 3).Select(i => randn(new long[] { 3, 4, 5, 5 }, generator: g) * (i + 1) + i).ToArray();
        var weight = randn(new long[] { 3, 4, 5, 5 }, generator: g);

        var expected = Execute(standard: true, gates, sources, weight, ScalarType.Float64);
        var actual = Execute(standard: false, gates, sources, weight, ScalarType.Float64);

        Assert.True(expected.Output.eq(actual.Output).all().item<bool>(), "forward values differ");
        Assert.True(expected.RunningMean.eq(actual.RunningMean).all().item<bool>());
        Assert.True(expected.RunningVar.eq(actual.RunningVar).all().item<bool>());
        string[] names = ["gates", "gamma", "beta", "n0", "n1", "n2"];
        for (int i = 0; i < names.Length; i++)
            Assert.True(RelativeMaxError(actual.Gradients[i], expected.Gradients[i]) < 1e-10,
                $"{names[i]}: relative error {RelativeMaxError(actual.Gradients[i], expected.Gradients[i]):E2}");
    }

    [Fact]
    public void MatchesLibtorchsNodesInFloat32()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(14);
        var gates = rand(new long[] { 4, 2 }, generator: g);
        var sources = Enumerable.Range(0, 2).Select(_ => randn(new long[] { 4, 8, 6, 6 }, generator: g)).ToArray();
        var weight = randn(new long[] { 4, 8, 6, 6 }, generator: g);
        var expected = Execute(standard: true, gates, sources, weight, ScalarType.Float32);
        var actual = Execute(standard: false, gates, sources, weight, ScalarType.Float32);
        Assert.True(expected.Output.eq(actual.Output).all().item<bool>(), "forward values differ");
        for (int i = 0; i < expected.Gradients.Length; i++)
            Assert.True(RelativeMaxError(actual.Gradients[i], expected.Gradients[i]) < 1e-4,
                $"gradient {i}: relative error {RelativeMaxError(actual.Gradients[i], expected.Gradients[i]):E2}");
    }
}
