using Delta.Backbones.Delta;

namespace Delta.Backbones.Tests.Delta;

public class GatePairsTests
{
    [Fact]
    public void OrderIsGroupedByTargetWithSourcesAscending()
    {
        Assert.Equal(new[] { (0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3) }, GatePairs.All(3));
        Assert.Equal(Enumerable.Range(0, 6), GatePairs.All(3).Select(p => GatePairs.Index(p.Source, p.Target)));
        Assert.Equal(3, GatePairs.TargetOffset(3));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(3, 6)]
    [InlineData(6, 21)]
    [InlineData(23, 276)]
    public void CountIsKTimesKPlusOneOverTwo(int k, int expected) => Assert.Equal(expected, GatePairs.Count(k));

    [Fact]
    public void RejectsPairsThatAreNotEarlierToLater() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => GatePairs.Index(2, 2));
}
