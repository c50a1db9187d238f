using Delta.Backbones.Autograd;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Autograd;

/// <summary>The end of Δ_s as one node that keeps only its input (<see cref="PooledBatchNormReluFunction"/>), against
/// libtorch's BN, ReLU and pooling nodes.</summary>
public class PooledBatchNormReluTests
{
    [Theory]
    [InlineData(ScalarType.Float64, 1e-10)]   // summation order no longer matters: a difference would be a wrong formula
    [InlineData(ScalarType.Float32, 1e-5)]
    public void MatchesLibtorchsNodesAndKeepsTheSameRunningStatistics(ScalarType dtype, double tolerance)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(23);
        var input = randn(new long[] { 4, 6, 5, 5 }, generator: g);
        var upstream = randn(new long[] { 4, 6 }, generator: g);

        (Tensor Output, Tensor[] Grads, Tensor Mean, Tensor Var) Run(bool activationFree)
        {
            var bn = nn.BatchNorm2d(6, dtype: dtype);
            using (no_grad()) { bn.weight!.copy_(linspace(-0.9, 1.1, 6)); bn.bias!.copy_(linspace(0.3, -0.4, 6)); }   // γ < 0 on some channels
            bn.train();
            var z = input.to_type(dtype).requires_grad_(true);
            var p = activationFree ? PooledBatchNormReluFunction.Apply(z, bn) : PooledBatchNormReluFunction.Plain(z, bn);
            (p * upstream.to_type(dtype)).sum().backward();
            return (p.detach(), [z.grad!, bn.weight!.grad!, bn.bias!.grad!], bn.running_mean!.clone(), bn.running_var!.clone());
        }

        var expected = Run(activationFree: false);
        var actual = Run(activationFree: true);
        Assert.True(expected.Output.eq(actual.Output).all().item<bool>(), "forward values differ");
        Assert.True(expected.Mean.eq(actual.Mean).all().item<bool>() && expected.Var.eq(actual.Var).all().item<bool>());
        string[] names = ["z", "gamma", "beta"];
        for (int i = 0; i < 3; i++)
        {
            var (a, e) = (actual.Grads[i].to_type(ScalarType.Float64), expected.Grads[i].to_type(ScalarType.Float64));
            var error = (a - e).abs().max().item<double>() / e.abs().max().item<double>();
            Assert.True(error < tolerance, $"{names[i]}: relative error {error:E2}");
        }
        // The ReLU clips part of every channel here, so its mask shapes the gradient.
        var normalized = nn.functional.batch_norm(input, null, null, linspace(-0.9, 1.1, 6), linspace(0.3, -0.4, 6), training: true);
        Assert.All(Enumerable.Range(0, 6), ch => Assert.True(normalized[.., ch].lt(0).any().item<bool>() && normalized[.., ch].gt(0).any().item<bool>()));
    }
}
