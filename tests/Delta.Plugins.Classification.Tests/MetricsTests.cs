using Delta.Plugins.Classification.Metrics;

namespace Delta.Plugins.Classification.Tests;

public sealed class MetricsTests
{
    [Fact]
    public void Top1CountsExactMatches() => Assert.Equal(0.6, ClassificationMetrics.Top1([1, 2, 3, 0, 0], [1, 2, 0, 0, 1]), 12);

    [Fact]
    public void HarmonicMeanOfEightyAndSixtyIsSixtyEightPointFiveSeven()
    {
        Assert.Equal(2 * 0.8 * 0.6 / 1.4, ClassificationMetrics.HarmonicMean(0.8, 0.6), 12);
        Assert.Equal(0.685714285714, ClassificationMetrics.HarmonicMean(0.8, 0.6), 9);
        Assert.Equal(0, ClassificationMetrics.HarmonicMean(0, 0));
        Assert.Equal(0, ClassificationMetrics.HarmonicMean(0.9, 0));
    }

    [Fact]
    public void ConfusionMatrixIsIndexedTrueThenPredicted()
    {
        var m = ClassificationMetrics.ConfusionMatrix([0, 1, 1, 2], [0, 0, 1, 2], 3);
        Assert.Equal(1, m[0, 0]); Assert.Equal(1, m[0, 1]); Assert.Equal(1, m[1, 1]); Assert.Equal(1, m[2, 2]);
        Assert.Equal(0, m[1, 0]);
    }

    [Fact]
    public void MismatchedLengthsAreRefused() => Assert.Throws<ArgumentException>(() => ClassificationMetrics.Top1([1], [1, 2]));
}
