using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;

namespace Delta.Backbones.Tests.Patches;

public sealed class ManifestPropertiesTests
{
    private static ManifestProperties Of(Dictionary<string, string> p) => new(new PatchManifest
    {
        Architecture = "tiny_resnet", BaseWeights = "random", BaseWeightsSha256 = "00", Delta = DeltaConfig.None, PluginId = "x", Task = "t", Properties = p,
    }, "/patches/p.dpatch", "Example");

    [Fact]
    public void ValuesParseInvariantlyAndProblemsNameTheFileTheKeyAndTheValue()
    {
        var p = Of(new() { ["n"] = "12", ["x"] = "0.25", ["xs"] = "32,64.5", ["bad"] = "1,5", ["word"] = "twelve" });
        Assert.Equal(12, p.Int("n"));
        Assert.Equal(0.25, p.Double("x"));
        Assert.Equal([32, 64.5], p.Doubles("xs"));
        var missing = Assert.Throws<PatchException>(() => p.Int("size"));
        Assert.Equal(PatchErrorKind.Incompatible, missing.Kind);
        Assert.Equal("/patches/p.dpatch: manifest lacks the Example property 'size'.", missing.Message);
        Assert.Equal("/patches/p.dpatch: manifest property 'bad' = '1,5' is not an integer.", Assert.Throws<PatchException>(() => p.Int("bad")).Message);
        Assert.Contains("'word' = 'twelve' is not a number", Assert.Throws<PatchException>(() => p.Double("word")).Message);
    }

    [Fact]
    public void BoundedIntegersAndAllOrNoneGroupsSayWhatIsWrong()
    {
        var p = Of(new() { ["size"] = "0", ["count"] = "3", ["a"] = "1", ["b"] = "2" });
        Assert.Equal(3, p.Int("count", minimum: 1));
        Assert.Equal(0, p.Int("size", minimum: 0));
        Assert.Equal("/patches/p.dpatch: manifest property 'size' = '0' is not an integer ≥ 1.", Assert.Throws<PatchException>(() => p.Int("size", minimum: 1)).Message);
        Assert.True(p.HasAll("pair", "a", "b"));
        Assert.False(p.HasAll("pair", "x", "y"));                           // recorded by none: an older patch
        var part = Assert.Throws<PatchException>(() => p.HasAll("triple", "a", "x", "b", "y"));
        Assert.Equal(PatchErrorKind.Incompatible, part.Kind);
        Assert.Equal("/patches/p.dpatch: manifest records only part of its triple (missing x, y).", part.Message);
    }
}
