using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Backbones.Patches;
using Delta.Backbones.Registry;
using Delta.Backbones.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Patches;

public sealed class PatchStoreTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-patches-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static PatchManifest Manifest(string arch = "tiny_resnet", string sha = "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12", int version = PatchManifest.CurrentFormatVersion) => new()
    {
        FormatVersion = version, Architecture = arch, BaseWeights = "random", BaseWeightsSha256 = sha,
        Delta = new DeltaConfig { Stages = 2, Variant = DeltaVariant.AllSkipsLearnable, BatchNorm = false },
        PluginId = "classification", Task = "mnist", ClassNames = ["zero", "one"],
        Metrics = new Dictionary<string, double> { ["top1"] = 0.875 },
        Properties = new Dictionary<string, string> { ["imageSize"] = "32" },
        CreatedUtc = new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero),
    };

    private static Dictionary<string, Tensor> Tensors()
    {
        manual_seed(3);
        return new() { ["delta.C5.gates.fc.weight"] = randn(6, 16), ["head.weight"] = randn(2, 32), ["head.bias"] = zeros(2), ["delta.C5.bn.num_batches_tracked"] = tensor(7L) };
    }

    [Fact]
    public void RoundTripKeepsTensorsBitIdenticalAndTheManifestEqual()
    {
        var store = new PatchStore(dir);
        var tensors = Tensors();
        var saved = store.Save("mnist", Manifest(), tensors);
        Assert.Equal(new FileInfo(saved.Path).Length, saved.SizeBytes);
        using var patch = store.Load("mnist");
        Assert.Equal(tensors.Keys.Order(), patch.Tensors.Keys.Order());
        foreach (var (k, t) in tensors) Assert.True(t.Equals(patch.Tensors[k]), k);
        var m = patch.Manifest;
        Assert.Equal(Manifest().Delta, m.Delta);
        Assert.Equal(["zero", "one"], m.ClassNames);
        Assert.Equal(0.875, m.Metrics["top1"]);
        Assert.Equal("32", m.Properties["imageSize"]);
        Assert.Equal(Manifest().CreatedUtc, m.CreatedUtc);
        Assert.Equal(2, patch.Section("head").Count);
        Assert.Single(store.List());
        Assert.Equal("mnist", store.Inspect(saved.Path).Name);
    }

    [Theory]
    [InlineData(3)]      // inside the magic
    [InlineData(12)]     // inside the header
    [InlineData(40)]     // inside the manifest
    [InlineData(-40)]    // inside the tensors
    [InlineData(-1)]     // inside the checksum
    public void ATruncatedFileIsRefused(int cut)
    {
        var store = new PatchStore(dir);
        var path = store.Save("p", Manifest(), Tensors()).Path;
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(cut > 0 ? cut : bytes.Length + cut)]);
        var e = Assert.Throws<PatchException>(() => store.Load("p"));
        Assert.Contains(e.Kind, new[] { PatchErrorKind.Truncated, PatchErrorKind.Corrupt });
        Assert.Contains(path, e.Message);
    }

    [Theory]
    [InlineData(30)]     // a byte of the manifest JSON
    [InlineData(-50)]    // a byte of tensor data
    public void OneFlippedByteIsDetected(int at)
    {
        var store = new PatchStore(dir);
        var path = store.Save("p", Manifest(), Tensors()).Path;
        var bytes = File.ReadAllBytes(path);
        bytes[at > 0 ? at : bytes.Length + at] ^= 0x20;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<PatchException>(() => store.Load("p"));
        Assert.Equal(PatchErrorKind.Corrupt, e.Kind);
        Assert.Contains("checksum", e.Message);
    }

    [Fact]
    public void APatchForAnotherArchitectureOrOtherBaseWeightsIsRefusedSayingWhich()
    {
        var store = new PatchStore(dir);
        store.Save("p", Manifest(), Tensors());
        var sha = Manifest().BaseWeightsSha256;
        var arch = Assert.Throws<PatchException>(() => store.Load("p", new BaseIdentity("resnet50", "random", sha)));
        Assert.Equal(PatchErrorKind.WrongArchitecture, arch.Kind);
        Assert.Contains("resnet50", arch.Message);
        var weights = Assert.Throws<PatchException>(() => store.Load("p", new BaseIdentity("tiny_resnet", "other.dat", new string('0', 64))));
        Assert.Equal(PatchErrorKind.WrongBaseWeights, weights.Kind);
        using var ok = store.Load("p", new BaseIdentity("tiny_resnet", "random", sha));
    }

    [Fact]
    public void AnotherFormatVersionIsRefused()
    {
        var store = new PatchStore(dir);
        store.Save("p", Manifest(version: 99), Tensors());
        Assert.Equal(PatchErrorKind.UnsupportedFormatVersion, Assert.Throws<PatchException>(() => store.Load("p")).Kind);
    }

    [Fact]
    public void AnExistingPatchIsNeverReplacedUnlessAskedAndAFailedSaveLeavesItIntact()
    {
        var store = new PatchStore(dir);
        var path = store.Save("p", Manifest(), Tensors()).Path;
        var before = File.ReadAllBytes(path);
        Assert.Equal(PatchErrorKind.AlreadyExists, Assert.Throws<PatchException>(() => store.Save("p", Manifest(), Tensors())).Kind);
        var broken = Tensors();
        broken["head.weight"].Dispose();                                   // encoding this patch fails midway
        Assert.ThrowsAny<Exception>(() => store.Save("p", Manifest(), broken, overwrite: true));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir));                            // no temporary file left behind
        store.Save("p", Manifest() with { Task = "fashion" }, Tensors(), overwrite: true);
        Assert.Equal("fashion", store.Inspect("p").Manifest.Task);
    }

    [Theory]
    [InlineData("../evil")]
    [InlineData("a/b")]
    [InlineData("")]
    [InlineData(".hidden")]
    public void NamesThatCouldEscapeTheFolderAreRefused(string name) =>
        Assert.Throws<ArgumentException>(() => new PatchStore(dir).Save(name, Manifest(), Tensors()));

    [Fact]
    public void AMissingPatchIsNotFound() =>
        Assert.Equal(PatchErrorKind.NotFound, Assert.Throws<PatchException>(() => new PatchStore(dir).Load("nope")).Kind);

    /// <summary>Issue 2 §5: the size of a ResNet-18 Δ(1) + 10-class head patch against a full model copy.</summary>
    [Fact]
    public void AResNet18DeltaOnePatchIsASmallFractionOfAModelCopy()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.Create(new BackboneRequest { Architecture = "resnet18_cntk", Weights = "imagenet", Delta = new DeltaConfig { Stages = 1 } });
        var head = nn.Linear(backbone.NumFeatures, 10);
        var tensors = backbone.DeltaState().ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (k, t) in head.state_dict()) tensors["head." + k] = t;
        var id = backbone.Base;
        var manifest = Manifest(id.Architecture, id.WeightsSha256) with { BaseWeights = id.Weights, Delta = backbone.Delta };
        var patch = new PatchStore(dir).Save("r18", manifest, tensors);
        var copy = Path.Combine(dir, "copy.dat");
        var full = registry.GetBase(new BackboneRequest { Architecture = "resnet18_cntk", Weights = "imagenet" }).Model.state_dict()
            .Concat(tensors).ToDictionary(kv => kv.Key, kv => kv.Value);
        StateDictFile.Write(copy, full);
        var copyBytes = new FileInfo(copy).Length;
        Console.WriteLine($"resnet18_cntk Δ(1) + 10-class head: patch {patch.SizeBytes / 1e6:F2} MB, model copy {copyBytes / 1e6:F1} MB");
        Assert.True(patch.SizeBytes < copyBytes / 20, $"{patch.SizeBytes} vs {copyBytes}");
    }
}
