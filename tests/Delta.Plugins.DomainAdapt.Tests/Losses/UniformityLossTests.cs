using Delta.Plugins.DomainAdapt.Losses;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Tests.Losses;

public class UniformityLossTests
{
    /// <summary>
    /// By hand: a = (2, 0), b = (0, 3), c = (−0.5, 0) normalise to (1, 0), (0, 1), (−1, 0).
    /// Squared distances of the distinct pairs: ‖a−b‖² = 2, ‖a−c‖² = 4, ‖b−c‖² = 2.
    /// t = 2: L = log((e^−4 + e^−8 + e^−4) / 3) = log(0.0123222468) = −4.3963490.
    /// t = 1: L = log((e^−2 + e^−4 + e^−2) / 3) = log(0.0963198) = −2.3399886.
    /// </summary>
    [Theory]
    [InlineData(2.0, -4.396348967229015)]
    [InlineData(1.0, -2.3399886129885963)]
    public void ThreeVectors_MatchHandComputedValue(double t, double expected)
    {
        using var f = tensor(new float[] { 2, 0, 0, 3, -0.5f, 0 }).reshape(3, 2);
        using var loss = UniformityLoss.Compute(f, t);
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    /// <summary>All features equal: every distance is 0, so L = log mean e^0 = 0, the maximum (worst uniformity).</summary>
    [Fact]
    public void CollapsedFeatures_GiveZero_AndSpreadFeaturesGiveLess()
    {
        using var collapsed = ones(4, 3);
        using var l0 = UniformityLoss.Compute(collapsed);
        Assert.Equal(0f, l0.item<float>(), 5);
        using var spread = eye(4);                                             // 4 orthonormal vectors: every d² = 2
        using var l1 = UniformityLoss.Compute(spread);
        Assert.Equal(-4.0, l1.item<float>(), 5);                                // log e^(−2·2) = −4
    }

    [Fact]
    public void GradientPushesFeaturesApart()
    {
        using var f = tensor(new float[] { 1, 0, 0.9f, 0.1f, 0, 1 }).reshape(3, 2).requires_grad_(true);
        using var loss = UniformityLoss.Compute(f);
        loss.backward();
        using var g = f.grad!;
        Assert.True(g.isfinite().all().item<bool>());
        Assert.True(g.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void FewerThanTwoFeatures_IsAClearError()
    {
        using var one = ones(1, 4);
        Assert.Contains("N ≥ 2", Assert.Throws<ArgumentException>(() => UniformityLoss.Compute(one)).Message);
        using var flat = ones(4);
        Assert.Throws<ArgumentException>(() => UniformityLoss.Compute(flat));
    }
}
