using Delta.Abstractions.Backbones;
using Delta.Backbones.Catalog;
using Delta.Backbones.Registry;
using Delta.Backbones.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Weights;

public sealed class StateDictFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-weights-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static Dictionary<string, Tensor> BaseState(BackboneRegistry registry, string weights = "random")
    {
        var shared = registry.GetBase(new BackboneRequest { Architecture = "tiny_resnet", Weights = weights });
        return shared.Model.state_dict();
    }

    [Theory]
    [InlineData(".dat")]
    [InlineData(".safetensors")]
    [InlineData(".pth")]
    [InlineData(".bin")]
    public void AFileWrittenFromOneBaseLoadsIntoTheRegistryAsThatBase(string ext)
    {
        using var registry = BackboneRegistry.CreateDefault();
        var state = BaseState(registry);
        // Perturb so that the file's weights differ from the "random" base.
        var changed = state.ToDictionary(kv => kv.Key, kv => kv.Value.dtype == ScalarType.Float32 ? kv.Value + 0.5 : kv.Value.clone());
        changed["fc.weight"] = ones(10, 64);                                   // a torchvision classifier: ignored
        var path = Path.Combine(dir, "base" + ext);
        StateDictFile.Write(path, changed);
        var fromFile = registry.GetBase(new BackboneRequest { Architecture = "tiny_resnet", Weights = path });
        var loaded = fromFile.Model.state_dict();
        foreach (var (k, v) in changed.Where(kv => kv.Key != "fc.weight"))
            Assert.True(v.Equals(loaded[k]), k);
        Assert.NotEqual(registry.Resolve(new BackboneRequest { Architecture = "tiny_resnet" }).WeightsSha256,
                        registry.Resolve(new BackboneRequest { Architecture = "tiny_resnet", Weights = path }).WeightsSha256);
    }

    [Fact]
    public void MissingUnexpectedAndMisShapedKeysAreNamed()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var state = BaseState(registry).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        state.Remove("layer1.0.conv1.weight");
        state["layer9.extra"] = zeros(3);
        state["bn1.weight"] = zeros(5);
        var path = Path.Combine(dir, "broken.dat");
        StateDictFile.Write(path, state);
        var e = Assert.ThrowsAny<Exception>(() => registry.GetBase(new BackboneRequest { Architecture = "tiny_resnet", Weights = path }));
        var msg = e.ToString();
        Assert.Contains("broken.dat", msg);
        Assert.Contains("missing keys (1): layer1.0.conv1.weight", msg);
        Assert.Contains("unexpected keys (1): layer9.extra", msg);
        Assert.Contains("bn1.weight: expected [8], found [5]", msg);
    }

    [Fact]
    public void ATorchvisionClassifierIsUnexpectedUnlessExplicitlyIgnored()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var model = registry.GetBase(new BackboneRequest { Architecture = "tiny_resnet" }).Model;
        using var scope = NewDisposeScope();
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        state["fc.weight"] = zeros(10, 64);
        state["fc.bias"] = zeros(10);
        // A model of its own (not the registry's shared base, which the load below would overwrite), with weights
        // that differ from the state's, so the load is seen to copy them.
        using var fresh = BackboneCatalog.Get("tiny_resnet").Build(32);
        using (no_grad()) foreach (var p in fresh.parameters()) p.fill_(0.125);
        var e = Assert.Throws<InvalidDataException>(() => StateDictMatcher.LoadStrict(fresh, state, "in-memory"));
        Assert.Contains("unexpected keys (2): fc.bias, fc.weight", e.Message);
        Assert.All(fresh.parameters(), p => Assert.True(p.eq(0.125f).all().item<bool>()));   // a refused load copied nothing
        StateDictMatcher.LoadStrict(fresh, state, "in-memory", StateDictMatcher.ClassifierPrefixes);
        foreach (var (key, value) in fresh.state_dict()) Assert.True(value.Equals(state[key]), key);
    }

    /// <summary>torchvision's original model-zoo files predate num_batches_tracked; PyTorch fills it in, so do we.</summary>
    [Fact]
    public void AStateDictWithoutBatchNormCountersLoadsWithCountersAtZero()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var model = registry.GetBase(new BackboneRequest { Architecture = "tiny_resnet" }).Model;
        var state = model.state_dict().Where(kv => !kv.Key.EndsWith("num_batches_tracked")).ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        Assert.Equal(20, model.state_dict().Count(kv => kv.Key.EndsWith("num_batches_tracked")));
        var path = Path.Combine(dir, "old.pth");
        StateDictFile.Write(path, state);
        var loaded = registry.GetBase(new BackboneRequest { Architecture = "tiny_resnet", Weights = path }).Model.state_dict();
        Assert.Equal(0L, loaded["layer1.0.bn1.num_batches_tracked"].item<long>());
        foreach (var (k, v) in state) Assert.True(v.Equals(loaded[k]), k);
    }

    [Fact]
    public void APickleThatIsNotAPlainStateDictIsRefusedNamingTheEntry()
    {
        var path = Path.Combine(dir, "checkpoint.pt");
        // torch.save's layout: a zip whose data.pkl is the pickled object; here a dict holding a number, like a training checkpoint.
        using (var zip = new System.IO.Compression.ZipArchive(File.Create(path), System.IO.Compression.ZipArchiveMode.Create))
        using (var entry = zip.CreateEntry("checkpoint/data.pkl").Open())
            entry.Write(new Razorvine.Pickle.Pickler().dumps(new System.Collections.Hashtable { ["epoch"] = 3 }));
        var e = Assert.Throws<InvalidDataException>(() => StateDictFile.Read(path));
        Assert.Contains("checkpoint.pt", e.Message);
        Assert.Contains("'epoch'", e.Message);
    }

    [Fact]
    public void AGarbageFileIsReportedWithItsPath()
    {
        var path = Path.Combine(dir, "garbage.safetensors");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        var e = Assert.Throws<InvalidDataException>(() => StateDictFile.Read(path));
        Assert.Contains("garbage.safetensors", e.Message);
    }

    [Fact]
    public void Float64FilesAreConvertedToTheModelsDtype()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var state = BaseState(registry).ToDictionary(kv => kv.Key, kv => kv.Value.dtype == ScalarType.Float32 ? kv.Value.to(ScalarType.Float64) : kv.Value.clone());
        var path = Path.Combine(dir, "f64.dat");
        StateDictFile.Write(path, state);
        var loaded = registry.GetBase(new BackboneRequest { Architecture = "tiny_resnet", Weights = path }).Model.state_dict();
        Assert.Equal(ScalarType.Float32, loaded["conv1.weight"].dtype);
        Assert.Equal(registry.Resolve(new BackboneRequest { Architecture = "tiny_resnet" }).WeightsSha256,
                     registry.Resolve(new BackboneRequest { Architecture = "tiny_resnet", Weights = path }).WeightsSha256);
    }
}
