using Delta.Backbones.Autograd;
using Delta.Backbones.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Autograd;

/// <summary>The bit-packed ReLU mask: exact for every memory layout and size, one bit per element.</summary>
public class ReluMaskTests
{
    [Theory]
    [InlineData(2, 3, 5, 7, false, ScalarType.Float32)]    // 210 elements: not a multiple of 8, padded
    [InlineData(2, 3, 5, 7, true, ScalarType.Float32)]     // channels-last: packed in NHWC order
    [InlineData(1, 8, 4, 4, true, ScalarType.BFloat16)]
    [InlineData(3, 1, 1, 1, false, ScalarType.BFloat16)]   // fewer elements than one byte holds
    public void ApplyingTheMaskZeroesExactlyWhereTheReluOutputWasZero(int n, int c, int h, int w, bool channelsLast, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var values = randn(new long[] { n * c * h * w }, generator: g);
        values[0] = tensor(-1f); values[-1] = tensor(1f);   // at least one zero and one positive output, whatever the size
        var y = FrozenBaseCopy.Convert(values.reshape(n, c, h, w).relu(), dtype, channelsLast);
        var gradient = FrozenBaseCopy.Convert(randn(new long[] { n, c, h, w }, generator: g), dtype, !channelsLast);   // the other layout

        var mask = ReluMask.Of(y);
        var actual = mask.Apply(gradient);

        Assert.Equal((y.numel() + 7) / 8, mask.Bits.numel());
        Assert.Equal(ScalarType.Byte, mask.Bits.dtype);
        var expected = gradient * y.gt(0).to_type(dtype);
        Assert.Equal(dtype, actual.dtype);
        Assert.True(actual.eq(expected).all().item<bool>(), "masked gradient differs from gradient · [y > 0]");
        Assert.True(y.eq(0).any().item<bool>() && y.gt(0).any().item<bool>());
    }
}
