using Delta.Plugins.DeepLabV3.Losses;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Tests.Losses;

public sealed class SegmentationLossTests
{
    [Fact]
    public void EqualsTheHandComputedMeanOverLabelledPixels()
    {
        using var scope = NewDisposeScope();
        // One image 1x2, two classes. Pixel 0: logits (0, ln 3), label 1 → −ln(3/4). Pixel 1: ignored.
        var logits = tensor(new float[] { 0f, 5f, MathF.Log(3f), -2f }, [1, 2, 1, 2]);
        var target = tensor(new long[] { 1, 255 }, [1, 1, 2]);
        Assert.Equal(-Math.Log(0.75), SegmentationLoss.CrossEntropy(logits, target).item<float>(), 5);
    }

    [Fact]
    public void IgnoredPixelsDoNotChangeTheLossOrGetGradient()
    {
        using var scope = NewDisposeScope();
        var target = tensor(new long[] { 0, 255, 2, 255 }, [1, 2, 2]);
        var a = randn(1, 3, 2, 2);
        var b = a.clone();
        b[0, .., 0, 1] = tensor(new float[] { 9f, -9f, 4f });
        b[0, .., 1, 1] = tensor(new float[] { -7f, 3f, 8f });
        var la = SegmentationLoss.CrossEntropy(a, target).item<float>();
        var leaf = b.requires_grad_(true);
        var lb = SegmentationLoss.CrossEntropy(leaf, target);
        lb.backward();
        Assert.Equal(la, lb.item<float>(), 6);
        Assert.Equal(0f, leaf.grad![0, .., 0, 1].abs().sum().item<float>());
        Assert.True(leaf.grad![0, .., 0, 0].abs().sum().item<float>() > 0);
    }

    [Fact]
    public void AllIgnoredBatchGivesAFiniteZeroLossThatStillBackpropagates()
    {
        using var scope = NewDisposeScope();
        var logits = randn(2, 21, 4, 4).requires_grad_(true);
        var target = full([2, 4, 4], 255L, ScalarType.Int64);
        var loss = SegmentationLoss.CrossEntropy(logits, target);
        Assert.Equal(0f, loss.item<float>());
        Assert.True(loss.requires_grad);
        loss.backward();
        Assert.Equal(0f, logits.grad!.abs().sum().item<float>());
        Assert.True(float.IsNaN(nn.functional.cross_entropy(logits, target, ignore_index: 255).item<float>()));  // what the guard is for
    }
}
