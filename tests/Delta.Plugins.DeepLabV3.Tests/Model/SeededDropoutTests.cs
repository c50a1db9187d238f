using Delta.Plugins.DeepLabV3.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Tests.Model;

public sealed class SeededDropoutTests
{
    [Fact]
    public void TrainingZeroesAboutPAndScalesTheRestByOneOverOneMinusP()
    {
        using var generator = new Generator(3);
        using var dropout = new SeededDropout(0.3, generator);
        dropout.train();
        using var scope = NewDisposeScope();
        var x = rand(new long[] { 4, 50, 1000 }, generator: new Generator(1)).add_(0.5);   // no zeros of its own
        var y = dropout.call(x);
        var dropped = y.eq(0);
        var fraction = dropped.to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(fraction, 0.29, 0.31);                                        // 200,000 draws: σ ≈ 0.001
        var kept = dropped.logical_not();
        Assert.True(y.masked_select(kept).allclose(x.masked_select(kept) / 0.7, rtol: 1e-6, atol: 0));
    }

    [Fact]
    public void EvalIsTheIdentity()
    {
        using var generator = new Generator(3);
        using var dropout = new SeededDropout(0.5, generator);
        dropout.eval();
        using var x = randn(2, 3, 4, 5);
        using var y = dropout.call(x);
        Assert.True(y.Equals(x));
    }

    /// <summary>The masks follow the generator alone: the same state gives the same masks whatever the global generator
    /// holds, and the gradient is the mask (what autograd sees is x · keep).</summary>
    [Fact]
    public void MasksFollowTheOwnGeneratorOnlyAndTheGradientIsTheMask()
    {
        using var scope = NewDisposeScope();
        Tensor Run(ulong seed, long globalSeed, out Tensor grad)
        {
            using var generator = new Generator(seed);
            using var dropout = new SeededDropout(0.5, generator);
            dropout.train();
            manual_seed(globalSeed);
            var x = ones(3, 8, 6, 6, requires_grad: true);
            var y = dropout.call(x);
            y.sum().backward();
            grad = x.grad!.clone();
            return y.detach();
        }
        var a = Run(11, 1, out var gradA);
        var b = Run(11, 2, out _);
        var c = Run(12, 1, out _);
        Assert.True(a.Equals(b));
        Assert.False(a.Equals(c));
        Assert.True(gradA.Equals(a));                                                // x = 1: the output is the scaled mask
    }

    [Fact]
    public void AProbabilityOutsideZeroToOneIsRefused()
    {
        using var generator = new Generator(0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeededDropout(1.0, generator));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeededDropout(-0.1, generator));
    }
}
