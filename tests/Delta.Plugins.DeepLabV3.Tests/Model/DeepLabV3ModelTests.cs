using Delta.Backbones.Registry;
using Delta.Plugins.DeepLabV3.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Tests.Model;

public sealed class DeepLabV3ModelTests
{
    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void DilatedBackboneC5StrideAndLogitsShapeMatchTheOutputStride(int outputStride)
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.Create(TestBackbones.TinyBottleneck(outputStride));
        using var model = new DeepLabV3Model(backbone, 21, outputStride, headChannels: 16, auxiliary: true);
        model.Train(false);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn(2, 3, 64, 96);
        var features = backbone.Forward(x);
        // Output stride measured from shapes, not read from metadata.
        Assert.Equal(outputStride, 64 / (int)features["C5"].shape[2]);
        Assert.Equal(outputStride, 96 / (int)features["C5"].shape[3]);
        Assert.Equal(outputStride, backbone.FeatureInfo.Single(f => f.Name == "C5").Stride);
        var output = model.Forward(x, withAux: true);
        Assert.Equal(new long[] { 2, 21, 64, 96 }, output.Logits.shape);
        Assert.Equal(new long[] { 2, 21, 64, 96 }, output.AuxLogits!.shape);
        Assert.Equal(Aspp.RatesFor(outputStride), model.Heads.Classifier.Aspp.Rates);
    }

    [Fact]
    public void AtrousRatesDoubleAtOutputStride8()
    {
        Assert.Equal(new[] { 6, 12, 18 }, Aspp.RatesFor(16));
        Assert.Equal(new[] { 12, 24, 36 }, Aspp.RatesFor(8));
        Assert.Throws<ArgumentException>(() => Aspp.RatesFor(32));
    }

    [Fact]
    public void AsppKeepsSpatialSizeForEveryBranch()
    {
        using var generator = new Generator(0);
        using var aspp = new Aspp(8, [12, 24, 36], generator, 4);
        aspp.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Assert.Equal(new long[] { 3, 4, 5, 7 }, aspp.call(randn(3, 8, 5, 7)).shape);
    }

    [Fact]
    public void ImagePoolingWithBatchOneInTrainModeUsesRunningStatsAndLeavesThemUnchanged()
    {
        using var pooling = new AsppPooling(4, 3);
        pooling.train();
        var bn = pooling.named_modules().Single(m => m.name == "bn").module;
        var before = bn.named_buffers().Single(b => b.name == "running_mean").buffer.clone();
        using var scope = NewDisposeScope();
        var y = pooling.call(randn(1, 4, 5, 6));
        Assert.Equal(new long[] { 1, 3, 5, 6 }, y.shape);
        Assert.True(y.isfinite().all().item<bool>());
        Assert.True(before.Equals(bn.named_buffers().Single(b => b.name == "running_mean").buffer));
        pooling.call(randn(2, 4, 5, 6));   // batch ≥ 2 uses batch statistics and updates them, as in torchvision
        Assert.False(before.Equals(bn.named_buffers().Single(b => b.name == "running_mean").buffer));
    }

    [Fact]
    public void HeadBuiltForAnotherOutputStrideIsRefused()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.Create(TestBackbones.TinyBottleneck(16));
        var e = Assert.Throws<ArgumentException>(() => new DeepLabV3Model(backbone, 21, 8));
        Assert.Contains("stride 16", e.Message);
    }
}
