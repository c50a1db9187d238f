using Delta.Abstractions;
using Delta.Data.Datasets;

namespace Delta.Data.Tests.Datasets;

/// <summary>Readers on the real files fetched by ./delta setup ($DELTA_ASSETS); expected values checked independently with Python.</summary>
public class RealAssetTests
{
    [Fact]
    public void FashionMnistTestSet_Has10000Items_AndKnownFirstLabelsAndPixels()
    {
        using var data = DigitReaders.Idx(AssetPaths.Require(AssetPaths.FashionMnist), train: false, DigitReaders.FashionClasses);
        Assert.Equal(10_000, data.Count);
        Assert.Equal(new[] { 9, 2, 1, 1, 6 }, data.Labels[..5]);
        Assert.Equal(new long[] { 10_000, 1, 28, 28 }, data.Images.shape);
        using var first = data.Load(0);
        Assert.Equal(33456 / 255.0, first.sum().item<float>(), 2);   // byte sum of image 0 = 33456
    }

    [Fact]
    public void MnistJson_Has10000DigitsWithKnownClassCounts()
    {
        using var data = DigitReaders.MnistJson(AssetPaths.Require(AssetPaths.MnistJson));
        Assert.Equal(10_000, data.Count);
        var counts = Enumerable.Range(0, 10).Select(d => data.Labels.Count(l => l == d)).ToArray();
        Assert.Equal(new[] { 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 }, counts);
        Assert.InRange(data.Images.min().item<float>(), 0f, 0f);
        Assert.InRange(data.Images.max().item<float>(), 0.99f, 1f);
    }

    [Fact]
    public void OptDigits_Has1797Rows_FirstIsAZero()
    {
        using var data = DigitReaders.OptDigits(AssetPaths.Require(AssetPaths.OptDigitsCsv));
        Assert.Equal(1797, data.Count);
        Assert.Equal(0, data.Labels[0]);
        Assert.Equal(new long[] { 1797, 1, 8, 8 }, data.Images.shape);
        Assert.Equal(5 / 16f, data.Images[0, 0, 0, 2].item<float>(), 6);   // first row: 0,0,5,13,...
    }
}
