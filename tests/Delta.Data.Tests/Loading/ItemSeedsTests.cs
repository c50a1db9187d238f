using Delta.Data.Loading;

namespace Delta.Data.Tests.Loading;

public class ItemSeedsTests
{
    /// <summary>Values computed independently (Python, the same SplitMix64 arithmetic on unbounded integers masked to
    /// 64 bits): pinned, so the seeds cannot silently become per-process (HashCode.Combine was) or change between
    /// releases, which would change every augmented run under the same seed.</summary>
    [Theory]
    [InlineData(0, 0, 0, 2065550767)]
    [InlineData(9, 0, 0, 915189926)]
    [InlineData(9, 0, 1, 2076012060)]
    [InlineData(9, 1, 0, 8983680)]
    [InlineData(-1, 3, 7, -793184088)]
    [InlineData(123456, 2, 511, 1105314546)]
    public void SeedIsAFixedFunctionOfSeedEpochAndPosition(int seed, int epoch, int position, int expected) =>
        Assert.Equal(expected, ItemSeeds.For(seed, epoch, position));

    [Fact]
    public void NeighbouringItemsEpochsAndSeedsGetDistinctSeeds()
    {
        var seeds = new HashSet<int>();
        for (var seed = 0; seed < 4; seed++)
            for (var epoch = 0; epoch < 8; epoch++)
                for (var position = 0; position < 256; position++)
                    seeds.Add(ItemSeeds.For(seed, epoch, position));
        Assert.Equal(4 * 8 * 256, seeds.Count);
    }
}
