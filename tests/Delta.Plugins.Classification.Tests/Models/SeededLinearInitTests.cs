using Delta.Plugins.Classification.Models;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Tests.Models;

[CollectionDefinition(nameof(GlobalGeneratorCollection), DisableParallelization = true)]
public sealed class GlobalGeneratorCollection;

/// <summary>Draws from libtorch's process-global generator on purpose, so runs alone: a test running beside it could draw in between.</summary>
[Collection(nameof(GlobalGeneratorCollection))]
public sealed class SeededLinearInitTests
{
    /// <summary>The seeded init reproduces what manual_seed + nn.Linear drew before it replaced them (the base model's
    /// probe and its published figures did not move), for several shapes and seeds.</summary>
    [Theory]
    [InlineData(512, 10, 0L)]
    [InlineData(2048, 7, 42L)]
    [InlineData(3, 5, 123456789L)]
    public void DrawsExactlyWhatManualSeedAndNnLinearDraw(int inFeatures, int outFeatures, long seed)
    {
        manual_seed(seed);
        using var reference = nn.Linear(inFeatures, outFeatures);
        using var seeded = nn.Linear(inFeatures, outFeatures);
        manual_seed(seed + 1);                                                 // a different global state: it must not matter
        SeededLinearInit.Apply(seeded, seed);
        Assert.True(reference.weight.Equals(seeded.weight));
        Assert.True(reference.bias!.Equals(seeded.bias!));
    }

    [Fact]
    public void LeavesTheGlobalGeneratorWhereItWas()
    {
        using var linear = nn.Linear(16, 4);
        manual_seed(3);
        using var expected = rand(5);
        manual_seed(3);
        SeededLinearInit.Apply(linear, 3);
        using var after = rand(5);
        Assert.True(expected.Equals(after));
    }
}
