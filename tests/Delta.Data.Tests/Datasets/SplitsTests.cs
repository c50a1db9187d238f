using Delta.Data.Datasets;
using static TorchSharp.torch;

namespace Delta.Data.Tests.Datasets;

public class SplitsTests
{
    /// <summary>Class c has 20·(c+1) items: 20, 40, 60, interleaved.</summary>
    private static TensorImageDataset Unbalanced()
    {
        var labels = new List<int>();
        for (int i = 0; i < 60; i++) for (int c = 0; c < 3; c++) if (i < 20 * (c + 1)) labels.Add(c);
        return new TensorImageDataset("u", zeros(labels.Count, 1, 2, 2), labels.ToArray(), ["a", "b", "c"]);
    }

    [Theory]
    [InlineData(0.15, new[] { 3, 6, 9 })]
    [InlineData(0.3, new[] { 6, 12, 18 })]
    [InlineData(0.5, new[] { 10, 20, 30 })]
    [InlineData(1.0, new[] { 20, 40, 60 })]
    public void StratifiedFraction_EachClassKeepsItsShare(double fraction, int[] expected)
    {
        using var data = Unbalanced();
        var subset = Splits.StratifiedFraction(data, fraction, seed: 5);
        Assert.Equal(expected, Enumerable.Range(0, 3).Select(c => subset.Count(i => data.Labels[i] == c)));
        Assert.Equal(subset.Count, subset.Distinct().Count());
    }

    [Fact]
    public void StratifiedFraction_SameSeedSameSubset_OtherSeedOther()
    {
        using var data = Unbalanced();
        Assert.Equal(Splits.StratifiedFraction(data, 0.3, 1), Splits.StratifiedFraction(data, 0.3, 1));
        Assert.NotEqual(Splits.StratifiedFraction(data, 0.3, 1), Splits.StratifiedFraction(data, 0.3, 2));
        Assert.Equal(new[] { 0.15, 0.3, 0.5, 1.0 }, Splits.LowDataFractions);
    }

    [Fact]
    public void TrainValTest_DisjointCompleteStratified()
    {
        using var data = Unbalanced();
        var (train, val, test) = Splits.TrainValTest(data, 0.1, 0.2, seed: 3);
        Assert.Equal(120, train.Count + val.Count + test.Count);
        Assert.Equal(120, train.Concat(val).Concat(test).Distinct().Count());
        Assert.Equal(new[] { 4, 8, 12 }, Enumerable.Range(0, 3).Select(c => test.Count(i => data.Labels[i] == c)));
        Assert.Equal(new[] { 2, 4, 6 }, Enumerable.Range(0, 3).Select(c => val.Count(i => data.Labels[i] == c)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.TrainValTest(data, 0.5, 0.5, 0));
    }
}
