using Delta.Backbones.Architectures.ResNets;
using Delta.Backbones.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Architectures;

public class StemMaxPoolTests
{
    /// <summary>Values from a small set, so windows hold ties, plus NaN, ±inf and -0: every case where a max could tell
    /// two kernels apart.</summary>
    private static Tensor Awkward(ScalarType dtype)
    {
        using var generator = new Generator(5);
        var x = randint(-3, 4, [2, 6, 15, 17], generator: generator).to_type(ScalarType.Float32).mul_(0.5);
        var flat = x.view(-1);
        flat[3] = float.NaN; flat[40] = float.PositiveInfinity; flat[41] = float.NegativeInfinity; flat[77] = -0.0f;
        flat[500] = float.NaN; flat[501] = float.NaN;
        return x.to_type(dtype);
    }

    private static int[] Bits(Tensor t) =>
        t.to_type(ScalarType.Float32).contiguous().data<float>().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void NchwInputGivesTheNchwKernelsValuesBitForBitInNchw(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var pool = nn.MaxPool2d(3, stride: 2, padding: 1);
        var x = Awkward(dtype);
        using var noGrad = no_grad();
        var expected = pool.call(x);                 // libtorch's NCHW kernel
        var actual = StemMaxPool.Forward(pool, x);
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(dtype, actual.dtype);
        Assert.True(actual.is_contiguous(), "an NCHW input must get an NCHW (contiguous) output back");
        Assert.Equal(Bits(expected), Bits(actual));
    }

    [Fact]
    public void ChannelsLastInputIsPooledAsItIs()
    {
        using var scope = NewDisposeScope();
        using var pool = nn.MaxPool2d(3, stride: 2, padding: 1);
        var x = FrozenBaseCopy.Convert(Awkward(ScalarType.Float32), ScalarType.Float32, channelsLast: true);
        using var noGrad = no_grad();
        var actual = StemMaxPool.Forward(pool, x);
        Assert.True(FrozenBaseCopy.IsChannelsLast(actual));
        Assert.Equal(Bits(pool.call(x.contiguous())), Bits(actual));
    }

    [Fact]
    public void RecordedInputRunsTheModuleSoGradientsAreLibtorchs()
    {
        using var scope = NewDisposeScope();
        using var pool = nn.MaxPool2d(3, stride: 2, padding: 1);
        var x = Awkward(ScalarType.Float32).nan_to_num_(0).requires_grad_();
        var y = StemMaxPool.Forward(pool, x);
        Assert.True(y.requires_grad);
        y.sum().backward();
        var viaModule = x.detach().clone().requires_grad_();
        pool.call(viaModule).sum().backward();
        Assert.Equal(Bits(viaModule.grad!), Bits(x.grad!));
    }
}
