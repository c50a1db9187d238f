using Delta.Host.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Host.Tests.Training;

/// <summary>The device-side clipping gives the gradients TorchSharp's (host-reading) clip_grad_norm_ gives.</summary>
public sealed class GradientClippingTests
{
    private static List<Parameter> ParametersWithGradients(float gradientScale)
    {
        using var g = new Generator(7);
        var shapes = new long[][] { [16, 8, 3, 3], [16], [10, 16] };
        var parameters = shapes.Select(s => new Parameter(randn(s, generator: g))).ToList();
        foreach (var p in parameters) p.grad = randn(p.shape, generator: g) * gradientScale;
        parameters.Add(new Parameter(randn(4, generator: g)));               // no gradient: skipped by both
        return parameters;
    }

    [Theory]
    [InlineData(10f, 1.0)]     // norm ≈ 10·√1474 ≫ 1: scaled down to norm 1
    [InlineData(0.01f, 5.0)]   // norm ≈ 0.38 < 5: coefficient clamped to 1, gradients unchanged
    public void MatchesTorchSharpsClipGradNorm(float gradientScale, double maxNorm)
    {
        using var scope = NewDisposeScope();
        var ours = ParametersWithGradients(gradientScale);
        var reference = ParametersWithGradients(gradientScale);
        var before = ours.Where(p => p.grad is not null).Select(p => p.grad!.clone()).ToList();

        using var total = GradientClipping.ClipByTotalNorm(ours, maxNorm);
        var referenceTotal = nn.utils.clip_grad_norm_(reference, maxNorm);

        Assert.Equal(referenceTotal, total.item<float>(), referenceTotal * 1e-6);
        for (int i = 0; i < 3; i++)
            Assert.True(ours[i].grad!.allclose(reference[i].grad!, rtol: 1e-6, atol: 0), $"parameter {i}");
        var clippedNorm = stack(ours.Take(3).Select(p => p.grad!.norm())).norm().item<float>();
        if (referenceTotal > maxNorm) Assert.Equal(maxNorm, clippedNorm, maxNorm * 1e-5);
        else for (int i = 0; i < 3; i++) Assert.True(ours[i].grad!.eq(before[i]).all().item<bool>(), $"parameter {i} changed below the limit");
        Assert.Null(ours[3].grad);
    }

    [Fact]
    public void RejectsANonPositiveLimit()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByTotalNorm(ParametersWithGradients(1f), 0));
    }
}
