using System.Buffers.Binary;
using System.Security.Cryptography;
using Delta.Abstractions;
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
        Delta = new DeltaConfig { Stages = 2, Variant = DeltaVariant.AllSkipsLearnable, BatchNorm = false, GateStride = 4 },
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
        var text = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(saved.Path));
        Assert.StartsWith("DPATCH\n", text);
        Assert.Contains("\"variant\": \"all-learnable\"", text);                          // the registry name, not an enum number
        Assert.Contains("\"baseWeightsSha256\": ", text);                                   // camelCase
        Assert.DoesNotContain("baseIdentity", text);                                          // derived, not stored twice
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
        Assert.Equal(PatchErrorKind.Truncated, e.Kind);
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Theory]
    [InlineData(11, long.MaxValue - 4)]    // the manifest's length field: near long.MaxValue, where a sum would overflow
    [InlineData(11, -3)]
    public void ADamagedLengthFieldIsRefusedAsTruncatedNotAsAnIndexError(int field, long value)
    {
        var store = new PatchStore(dir);
        var path = store.Save("p", Manifest(), Tensors()).Path;
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("DPATCH\n"u8.ToArray(), bytes[..7]);                                 // magic, then version (4), then this field
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(field, 8), value);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<PatchException>(() => store.Load("p"));
        Assert.Equal(PatchErrorKind.Truncated, e.Kind);
        Assert.Contains(path, e.Message);
        var unreadable = new List<PatchException>();                                        // a listing reports it and goes on
        Assert.Empty(store.List(unreadable));
        Assert.Equal(PatchErrorKind.Truncated, Assert.Single(unreadable).Kind);
    }

    [Fact]
    public void NonFiniteMetricsAreSavedAndReadBack()
    {
        var store = new PatchStore(dir);
        var manifest = Manifest() with { Metrics = new Dictionary<string, double> { ["miou"] = double.NaN, ["loss"] = double.PositiveInfinity, ["top1"] = 0.5 } };
        store.Save("nan", manifest, Tensors());
        using var patch = store.Load("nan");
        Assert.True(double.IsNaN(patch.Manifest.Metrics["miou"]));
        Assert.Equal(double.PositiveInfinity, patch.Manifest.Metrics["loss"]);
        Assert.Equal(0.5, patch.Manifest.Metrics["top1"]);
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

    /// <summary>A file from a newer Delta (version 2 in the header, valid checksum) is refused as unsupported, not
    /// as corrupt; and this build never writes a version it cannot read.</summary>
    [Fact]
    public void AnotherFormatVersionIsRefused()
    {
        var store = new PatchStore(dir);
        var path = store.Save("p", Manifest(), Tensors()).Path;
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(7, 4), 2);                     // after the 7-byte magic
        SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)).CopyTo(bytes, bytes.Length - 32);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<PatchException>(() => store.Inspect("p"));
        Assert.Equal(PatchErrorKind.UnsupportedFormatVersion, e.Kind);
        Assert.Contains("version 2", e.Message);
        Assert.Throws<ArgumentException>(() => store.Save("q", Manifest(version: 2), Tensors()));
    }

    /// <summary>A save that died before its rename leaves only a hidden temporary file: listings and loads ignore it.</summary>
    [Fact]
    public void ALeftoverTemporaryFileFromACrashedSaveIsIgnored()
    {
        var store = new PatchStore(dir);
        var bytes = File.ReadAllBytes(store.Save("p", Manifest(), Tensors()).Path);
        File.WriteAllBytes(Path.Combine(dir, ".p.dpatch.tmp-1234-crashed"), bytes[..(bytes.Length / 2)]);
        Assert.Equal("p", Assert.Single(store.List()).Name);
        using var patch = store.Load("p.dpatch");
        Assert.Equal(4, patch.Tensors.Count);
    }

    /// <summary>One damaged file among good ones: the listing keeps the good ones and reports the bad one by path and kind.</summary>
    [Fact]
    public void ADamagedPatchDoesNotHideTheOthersInAListing()
    {
        var store = new PatchStore(dir);
        var good = store.Save("a", Manifest(), Tensors()).Path;
        store.Save("c", Manifest(), Tensors());
        var bytes = File.ReadAllBytes(good);
        bytes[^5] ^= 0xFF;                                                            // a flipped byte in the tensor data
        var damaged = Path.Combine(dir, "b.dpatch");
        File.WriteAllBytes(damaged, bytes);
        var problems = new List<PatchException>();
        Assert.Equal(["a", "c"], store.List(problems).Select(p => p.Name));
        var problem = Assert.Single(problems);
        Assert.Equal(damaged, problem.FilePath);
        Assert.Equal(PatchErrorKind.Corrupt, problem.Kind);
        Assert.Equal(2, store.List().Count);                                         // without a collection: skipped silently
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
    [InlineData("x.dpatch")]   // would be saved as x.dpatch.dpatch and not be found again under its own name
    public void NamesThatCouldEscapeTheFolderAreRefused(string name)
    {
        // The user's input (a job's name, `patches delete NAME`, `eval NAME`): hosts report it as bad input (exit 2).
        var store = new PatchStore(dir);
        Assert.Contains($"'{name}'", Assert.Throws<InputException>(() => store.Save(name, Manifest(), Tensors())).Message);
        Assert.Throws<InputException>(() => store.Delete(name));
        if (!name.Contains('/') && !name.EndsWith(PatchStore.Extension)) Assert.Throws<InputException>(() => store.Inspect(name));   // else a path, or a name + extension
    }

    [Fact]
    public void PatchSizePredictsTheFileLengthAndSplitsTheTensorsBySection()
    {
        var tensors = Tensors();
        var size = PatchSize.Of(Manifest(), tensors);
        var saved = new PatchStore(dir).Save("p", Manifest(), tensors);
        Assert.Equal(saved.SizeBytes, size.TotalBytes);
        Assert.Equal(6 * 16 * 4 + 8, size.TensorDataBytesBySection["delta"]);                // 96 floats + one int64
        Assert.Equal((2 * 32 + 2) * 4, size.TensorDataBytesBySection["head"]);
        Assert.Equal(66, size.ElementsBySection["head"]);
        var datPath = Path.Combine(dir, "t.dat");
        StateDictFile.Write(datPath, tensors);
        Assert.Equal(new FileInfo(datPath).Length, PatchSize.StateDictSize(tensors));
        Assert.Equal(size.TensorSectionBytes, PatchSize.StateDictSize(tensors));
    }

    /// <summary>A patch saved from a registry backbone loads back only onto a base with the registry's same identity,
    /// and gives the same outputs in a fresh registry (another process would resolve the same "random" hash).</summary>
    [Fact]
    public void ThePatchBaseCheckUsesTheRegistrysBaseIdentity()
    {
        var request = new BackboneRequest { Architecture = "tiny_resnet", Delta = new DeltaConfig { Stages = 2 }, Seed = 5 };
        var store = new PatchStore(dir);
        using var x = rand(2, 3, 32, 32, generator: new Generator(11));
        Tensor expected;
        using (var registry = BackboneRegistry.CreateDefault())
        using (var backbone = registry.Create(request))
        {
            using (no_grad()) foreach (var p in backbone.TrainableParameters) p.add_(0.3f);   // Δ no longer at its init
            backbone.Train(false);
            using (no_grad()) expected = backbone.Forward(x).Pooled.detach().clone();
            var id = backbone.Base;
            Assert.Equal(registry.Resolve(request), id);
            store.Save("tiny", Manifest(id.Architecture, id.WeightsSha256) with { BaseWeights = id.Weights, Delta = backbone.Delta },
                       backbone.DeltaState().ToDictionary(kv => "delta." + kv.Key, kv => kv.Value));
        }
        using var fresh = BackboneRegistry.CreateDefault();
        var identity = fresh.Resolve(request);
        using (var patch = store.Load("tiny", identity))
        using (var backbone = fresh.Create(request with { Seed = 6 }))
        {
            backbone.Train(false);
            using (no_grad())
            {
                Assert.False(backbone.Forward(x).Pooled.Equals(expected), "a different Δ init gives different features");
                backbone.LoadDeltaState(patch.Section("delta"));
                Assert.True(backbone.Forward(x).Pooled.Equals(expected), "the patch restores the saved features bit for bit");
            }
        }
        var file = Path.Combine(dir, "other.dat");
        StateDictFile.Write(file, fresh.GetBase(request).Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.dtype == ScalarType.Float32 ? kv.Value * 1.01f : kv.Value.clone()));
        var other = fresh.Resolve(request with { Weights = file });
        Assert.Equal(PatchErrorKind.WrongBaseWeights, Assert.Throws<PatchException>(() => store.Load("tiny", other)).Kind);
        var otherArch = fresh.Resolve(new BackboneRequest { Architecture = "tiny_bottleneck" });
        Assert.Equal(PatchErrorKind.WrongArchitecture, Assert.Throws<PatchException>(() => store.Load("tiny", otherArch)).Kind);
    }

    [Fact]
    public void AMissingPatchIsNotFound() =>
        Assert.Equal(PatchErrorKind.NotFound, Assert.Throws<PatchException>(() => new PatchStore(dir).Load("nope")).Kind);

    /// <summary>Issue 2 §5: the size of a ResNet-18 Δ(1) + 10-class head patch against a full model copy (the
    /// real ImageNet base, so the base check runs against the registry's identity of the real weights).
    /// Reproduce the printed numbers with:
    /// <c>dotnet test tests/Delta.Backbones.Tests -c Release --filter "FullyQualifiedName~AResNet18DeltaOnePatch" --logger "console;verbosity=detailed"</c></summary>
    [Fact]
    public void AResNet18DeltaOnePatchIsASmallFractionOfAModelCopy()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var request = new BackboneRequest { Architecture = "resnet18_cntk", Weights = "imagenet", Delta = new DeltaConfig { Stages = 1 } };
        using var backbone = registry.Create(request);
        using var head = nn.Linear(backbone.NumFeatures, 10);
        var tensors = backbone.DeltaState().ToDictionary(kv => "delta." + kv.Key, kv => kv.Value);
        foreach (var (k, t) in head.state_dict()) tensors["head." + k] = t;
        var id = backbone.Base;
        var manifest = Manifest(id.Architecture, id.WeightsSha256) with { BaseWeights = id.Weights, Delta = backbone.Delta };
        var size = PatchSize.Of(manifest, tensors);
        var saved = new PatchStore(dir).Save("r18", manifest, tensors);
        Assert.Equal(saved.SizeBytes, size.TotalBytes);
        using (new PatchStore(dir).Load("r18", registry.Resolve(request))) { }
        // A model copy: the whole base state dict (parameters + BN buffers) plus the Δ-modules and the head.
        var baseState = registry.GetBase(request).Model.state_dict();
        var copyBytes = PatchSize.StateDictSize(baseState.Concat(tensors).ToDictionary(kv => kv.Key, kv => kv.Value));
        var baseParams = registry.GetBase(request).Model.parameters().Sum(p => p.numel());
        Console.WriteLine($"resnet18_cntk Δ(1) + 10-class head: patch {size.TotalBytes} B ({size.TotalBytes / 1e6:F2} MB; " +
            $"Δ {size.ElementsBySection["delta"]} values = {size.TensorDataBytesBySection["delta"]} B, head {size.ElementsBySection["head"]} values = " +
            $"{size.TensorDataBytesBySection["head"]} B, manifest {size.ManifestBytes} B), model copy {copyBytes} B ({copyBytes / 1e6:F1} MB; base {baseParams} parameters)");
        Assert.Equal(5130, size.ElementsBySection["head"]);
        Assert.True(size.TotalBytes < copyBytes / 20, $"{size.TotalBytes} vs {copyBytes}");
    }
}
