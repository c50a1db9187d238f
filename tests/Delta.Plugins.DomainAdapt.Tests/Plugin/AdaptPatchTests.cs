using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Plugins.DomainAdapt.Patches;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Tests.Plugin;

/// <summary>Patches that are not a domain-adaptation patch over this base are refused with the file and the problem named.</summary>
public sealed class AdaptPatchTests : IDisposable
{
    private readonly TestEnv env = new();
    public void Dispose() => env.Dispose();

    private string SavePatch(string name, string plugin, string sha, Dictionary<string, string> properties)
    {
        var context = env.Context();
        using var encoder = env.Encoder(1);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, t) in encoder.Backbone.DeltaState()) { tensors[$"{AdaptPatch.SourceDelta}.{k}"] = t; tensors[$"{AdaptPatch.TargetDelta}.{k}"] = t; }
        using var w = zeros(10, encoder.NumFeatures);
        using var b = zeros(10);
        tensors[$"{AdaptPatch.Head}.fc.weight"] = w;
        tensors[$"{AdaptPatch.Head}.fc.bias"] = b;
        var manifest = new PatchManifest
        {
            Architecture = TestEnv.Arch, BaseWeights = "random", BaseWeightsSha256 = sha, Delta = new DeltaConfig { Stages = 1 },
            PluginId = plugin, Task = "t", ClassNames = Delta.Data.Datasets.DigitReaders.Digits, Properties = properties,
        };
        return context.Patches.Save(name, manifest, tensors).Path;
    }

    private string RealSha()
    {
        using var e = env.Encoder(1);
        return e.Backbone.Base.WeightsSha256;
    }

    [Fact]
    public void WellFormedPatch_Loads_AndBadOnesNameTheFileAndProblem()
    {
        var ok = new Dictionary<string, string> { ["imageSize"] = "16", ["source"] = "mnist", ["target"] = "optdigits" };
        SavePatch("good", DomainAdaptPlugin.PluginId, RealSha(), ok);
        using (var patch = AdaptPatch.Load(env.Context().Patches, env.Registry, "good", CPU))
            Assert.Equal(16, patch.ImageSize);

        var other = SavePatch("other", "classification", RealSha(), ok);
        var e1 = Assert.Throws<InvalidDataException>(() => AdaptPatch.Load(env.Context().Patches, env.Registry, "other", CPU));
        Assert.Contains(other, e1.Message);
        Assert.Contains("plugin 'classification'", e1.Message);

        SavePatch("wrongbase", DomainAdaptPlugin.PluginId, new string('a', 64), ok);
        Assert.Contains("made for base weights aaaaaaaaaaaa", Assert.Throws<InvalidDataException>(() => AdaptPatch.Load(env.Context().Patches, env.Registry, "wrongbase", CPU)).Message);

        var noSize = SavePatch("nosize", DomainAdaptPlugin.PluginId, RealSha(), new() { ["source"] = "mnist" });
        Assert.Equal($"{noSize}: manifest lacks the domain-adaptation property 'imageSize'.",
            Assert.Throws<PatchException>(() => AdaptPatch.Load(env.Context().Patches, env.Registry, "nosize", CPU)).Message);
    }

    [Fact]
    public void ARecordedSplitIsReadWholeOrRefusedNamingTheKeyAndValue()
    {
        var ok = new Dictionary<string, string> { ["imageSize"] = "16", ["source"] = "mnist", ["target"] = "optdigits" };
        SavePatch("split", DomainAdaptPlugin.PluginId, RealSha(), new(ok) { [AdaptPatch.SplitSeed] = "4", [AdaptPatch.TrainPerDomain] = "40", [AdaptPatch.TestPerDomain] = "20" });
        using (var patch = AdaptPatch.Load(env.Context().Patches, env.Registry, "split", CPU))
            Assert.Equal(new AdaptPatch.DigitSplit(4, 40, 20), patch.Split);

        var part = SavePatch("part", DomainAdaptPlugin.PluginId, RealSha(), new(ok) { [AdaptPatch.SplitSeed] = "4", [AdaptPatch.TrainPerDomain] = "40" });
        Assert.Equal($"{part}: manifest records only part of its digit split (missing testPerDomain).",
            Assert.Throws<PatchException>(() => AdaptPatch.Load(env.Context().Patches, env.Registry, "part", CPU)).Message);

        var negative = SavePatch("negative", DomainAdaptPlugin.PluginId, RealSha(), new(ok) { [AdaptPatch.SplitSeed] = "4", [AdaptPatch.TrainPerDomain] = "-1", [AdaptPatch.TestPerDomain] = "20" });
        Assert.Equal($"{negative}: manifest property 'trainPerDomain' = '-1' is not an integer ≥ 0.",
            Assert.Throws<PatchException>(() => AdaptPatch.Load(env.Context().Patches, env.Registry, "negative", CPU)).Message);
    }
}
