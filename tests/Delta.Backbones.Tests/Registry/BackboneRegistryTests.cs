using Delta.Abstractions.Backbones;
using Delta.Backbones.Catalog;
using Delta.Backbones.Registry;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Registry;

public class BackboneRegistryTests
{
    private static BackboneRequest Tiny(int stages = 4, bool batchNorm = true, DeltaVariant variant = DeltaVariant.Delta, string arch = "tiny_resnet") => new()
    {
        Architecture = arch,
        Delta = new DeltaConfig { Stages = stages, BatchNorm = batchNorm, Variant = variant },
        Seed = 3,
    };

    /// <summary>Every catalog architecture: Δ disabled ⇒ every stage output and the pooled vector are
    /// bit-identical to the plain base, while Δ enabled (no skip BN, so active from step 0) differs.</summary>
    [Fact]
    public void DeltaDisabledIsBitIdenticalToTheBaseForEveryArchitecture()
    {
        using var registry = BackboneRegistry.CreateDefault();
        foreach (var arch in BackboneCatalog.Names)
        {
            using var scope = NewDisposeScope();
            using var backbone = registry.CreateDelta(new BackboneRequest { Architecture = arch, Delta = new DeltaConfig { Stages = 4, BatchNorm = false } });
            var x = TestTensors.Input(1, 32);
            using var noGrad = no_grad();
            var plain = backbone.BaseModel.call(x);

            backbone.DeltaEnabled = false;
            var off = backbone.Forward(x);
            Assert.True(plain.Equals(off["C5"]), arch);
            Assert.True(backbone.BaseModel.Pool(plain).Equals(off.Pooled), arch);
            Assert.Null(off.Gates);

            backbone.DeltaEnabled = true;
            var on = backbone.Forward(x);
            Assert.False(plain.allclose(on["C5"]), $"{arch}: Δ enabled should change the output");
            registry.Dispose();   // one full-size base at a time
        }
    }

    [Fact]
    public void BaseHashIsUnchangedAfterAdamWStepsOnDeltaAndHead()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(Tiny());
        var before = BaseWeightsHash.Compute(backbone.BaseModel);
        Assert.Equal(before, backbone.Base.WeightsSha256);
        var deltaBefore = backbone.DeltaState().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        using var head = TestTensors.Head(backbone.NumFeatures, 3);
        var parameters = backbone.TrainableParameters.Concat(head.parameters()).ToList();
        using var optimizer = optim.AdamW(parameters, lr: 1e-2, weight_decay: 0.1);
        backbone.Train(true);
        var x = TestTensors.Input(4, 32);
        using var y = tensor(new long[] { 0, 1, 2, 1 });
        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(head.call(backbone.Forward(x).Pooled), y);
            loss.backward();
            optimizer.step();
        }
        Assert.False(backbone.BaseModel.training);
        Assert.All(backbone.BaseModel.modules(), m => Assert.False(m.training));
        Assert.Equal(before, BaseWeightsHash.Compute(backbone.BaseModel));
        // …while the Δ parameters did train (γ of the skip BNs, then gates and Δ_s).
        var changed = backbone.DeltaState().Count(kv => !kv.Value.Equals(deltaBefore[kv.Key]));
        Assert.True(changed > backbone.DeltaState().Count / 2, $"only {changed} Δ tensors changed");
    }

    [Fact]
    public void GatesLieInUnitIntervalAndReceiveGradients()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(Tiny(stages: 2, batchNorm: false));
        backbone.ReturnGates = true;
        backbone.Train(true);
        using var scope = NewDisposeScope();
        var features = backbone.Forward(TestTensors.Input(3, 32));
        Assert.NotNull(features.Gates);
        Assert.Equal(new[] { "C4", "C5" }, features.Gates!.Keys.OrderBy(k => k));
        foreach (var lam in features.Gates.Values)
        {
            Assert.Equal(new long[] { 3, 3 }, lam.shape);                       // k = 2 ⇒ 3 gates
            Assert.True(lam.min().item<float>() >= 0 && lam.max().item<float>() <= 1);
        }
        features.Pooled.square().sum().backward();
        foreach (var (name, p) in backbone.Module.named_parameters())
        {
            Assert.NotNull(p.grad);
            Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name} got a zero gradient");
        }
    }

    [Fact]
    public void WithSkipBatchNormGatesReceiveGradientsAfterTheFirstStep()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(Tiny(stages: 1));
        backbone.Train(true);
        using var optimizer = optim.SGD(backbone.TrainableParameters, 0.1);
        var x = TestTensors.Input(3, 32);
        for (int step = 0; step < 2; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            backbone.Forward(x).Pooled.square().sum().backward();
            var fcGrad = backbone.Module.get_parameter("delta.C5.gates.fc.weight")!.grad!.abs().sum().item<float>();
            var gammaGrad = backbone.Module.get_parameter("delta.C5.skip_bn.0.weight")!.grad!.abs().sum().item<float>();
            Assert.True(gammaGrad > 0);
            if (step == 0) Assert.Equal(0f, fcGrad);   // γ = 0: the Δ-network starts exactly at the base
            else Assert.True(fcGrad > 0);
            optimizer.step();
        }
    }

    [Fact]
    public void EachDeltaStageHasKTimesKPlusOneOverTwoGates()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(Tiny(arch: "tiny_bottleneck"));   // blocks [1,2,3,2]
        backbone.ReturnGates = true;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var gates = backbone.Forward(TestTensors.Input(2, 32)).Gates!;
        Assert.Equal(new Dictionary<string, int> { ["C2"] = 1, ["C3"] = 2, ["C4"] = 3, ["C5"] = 2 }, backbone.BlocksPerDeltaStage);
        foreach (var (stage, k) in backbone.BlocksPerDeltaStage)
            Assert.Equal(new long[] { 2, k * (k + 1) / 2 }, gates[stage].shape);
    }

    [Fact]
    public void TwoTasksShareOneBaseAndOwnOnlyTheirDelta()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var a = registry.CreateDelta(Tiny(stages: 1));
        using var b = registry.CreateDelta(Tiny(stages: 2) with { Seed = 9 });
        Assert.Same(a.BaseModel, b.BaseModel);
        Assert.Equal(1, registry.SharedBaseCount);
        var pa = a.BaseModel.parameters().First();
        var pb = b.BaseModel.parameters().First();
        Assert.Equal(StoragePointer(pa), StoragePointer(pb));   // same storage, not equal copies

        // What each task holds is exactly its Δ-modules: no base tensor is reachable from its module.
        var baseKeys = a.BaseModel.state_dict().Keys.ToHashSet();
        foreach (var task in new[] { a, b })
        {
            Assert.All(task.Module.state_dict().Keys, k => Assert.StartsWith("delta.", k));
            var (_, deltaCount) = registry.CountParameters("tiny_resnet", task.Delta);
            Assert.Equal(deltaCount, task.Module.parameters().Sum(p => p.numel()));
            Assert.Equal(deltaCount, task.TrainableParameterCount);
            Assert.Equal(a.BaseModel.parameters().Sum(p => p.numel()), task.FrozenParameterCount);
        }
        Assert.DoesNotContain(a.Module.state_dict().Keys, baseKeys.Contains);
    }

    private static unsafe nint StoragePointer(Tensor t)
    {
        fixed (byte* p = t.bytes) return (nint)p;
    }

    [Fact]
    public void TrainOnTheTaskNeverFlipsTheSharedBaseAndToDoesNotReachIt()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(Tiny());
        backbone.Module.train(true);
        backbone.Train(true);
        Assert.All(backbone.BaseModel.modules(), m => Assert.False(m.training));
        Assert.True(backbone.Module.modules().All(m => m.training));
        Assert.All(backbone.BaseModel.parameters(), p => Assert.False(p.requires_grad));
        var basePointers = backbone.BaseModel.parameters().Select(StoragePointer).ToHashSet();
        Assert.DoesNotContain(backbone.TrainableParameters, p => basePointers.Contains(StoragePointer(p)));
    }

    [Fact]
    public void FrozenStagesBeforeTheFirstDeltaStageRunWithoutAutograd()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(Tiny(stages: 1, batchNorm: false));
        backbone.Train(true);
        using var scope = NewDisposeScope();
        var f = backbone.Forward(TestTensors.Input(2, 32));
        Assert.False(f["C2"].requires_grad);
        Assert.False(f["C4"].requires_grad);
        Assert.True(f["C5"].requires_grad);
        Assert.True(f.Pooled.requires_grad);
    }

    [Fact]
    public void DeltaStateRoundTripsIntoAFreshTaskAndRejectsWrongKeysAndShapes()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var source = registry.CreateDelta(Tiny(stages: 2, batchNorm: false));
        using var target = registry.CreateDelta(Tiny(stages: 2, batchNorm: false) with { Seed = 99 });
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = TestTensors.Input(2, 32);
        Assert.False(source.Forward(x).Pooled.Equals(target.Forward(x).Pooled));   // different seeds differ
        target.LoadDeltaState(source.DeltaState());
        Assert.True(source.Forward(x).Pooled.Equals(target.Forward(x).Pooled));

        var missing = source.DeltaState().Where(kv => kv.Key != "delta.C5.gates.fc.bias").ToDictionary(kv => kv.Key, kv => kv.Value);
        var e1 = Assert.Throws<ArgumentException>(() => target.LoadDeltaState(missing));
        Assert.Contains("missing keys: delta.C5.gates.fc.bias", e1.Message);

        var extra = source.DeltaState().ToDictionary(kv => kv.Key, kv => kv.Value);
        extra["delta.C3.gates.fc.bias"] = zeros(3);
        Assert.Contains("unexpected keys: delta.C3.gates.fc.bias", Assert.Throws<ArgumentException>(() => target.LoadDeltaState(extra)).Message);

        var misShaped = source.DeltaState().ToDictionary(kv => kv.Key, kv => kv.Value);
        misShaped["delta.C4.gates.fc.weight"] = zeros(5, 5);
        var e3 = Assert.Throws<ArgumentException>(() => target.LoadDeltaState(misShaped));
        Assert.Contains("'delta.C4.gates.fc.weight' expects [3, 16] but got [5, 5]", e3.Message);

        // A wrong dtype in the last key is refused before anything is copied: the other keys (which would fit) stay as
        // they were, so a refused patch or checkpoint never leaves a half-loaded Δ state behind.
        using var other = registry.CreateDelta(Tiny(stages: 2, batchNorm: false) with { Seed = 5 });
        var misTyped = other.DeltaState().ToDictionary(kv => kv.Key, kv => kv.Value);
        var (lastKey, last) = target.DeltaState().Last();
        misTyped[lastKey] = misTyped[lastKey].to_type(ScalarType.Float64);
        var e4 = Assert.Throws<ArgumentException>(() => target.LoadDeltaState(misTyped));
        Assert.Contains($"dtype mismatch: '{lastKey}' expects {last.dtype} but got Float64", e4.Message);
        Assert.True(source.Forward(x).Pooled.Equals(target.Forward(x).Pooled));           // still the source's state
    }

    [Fact]
    public void RandomWeightsAreReproducibleWhateverTheGlobalRng()
    {
        torch.manual_seed(1);
        using var r1 = BackboneRegistry.CreateDefault();
        var h1 = r1.Resolve(Tiny());
        torch.manual_seed(12345);
        using var _ = torch.rand(1000);
        using var r2 = BackboneRegistry.CreateDefault();
        var h2 = r2.Resolve(Tiny());
        Assert.Equal(h1, h2);
        Assert.Matches("^[0-9a-f]{64}$", h1.WeightsSha256);
        Assert.NotEqual(h1.WeightsSha256, r2.Resolve(Tiny(arch: "tiny_bottleneck")).WeightsSha256);
    }

    [Fact]
    public void SharedBasesAreKeyedByWhatTheWeightsAreNotHowTheyAreSpelled()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var random = registry.GetBase(Tiny());
        Assert.Same(random, registry.GetBase(Tiny() with { Weights = "Random" }));          // sources match names case-insensitively
        Assert.Same(random, registry.GetBase(Tiny() with { Device = torch.CPU }));

        // A weights file: the same file by a relative and an absolute path is one base; rewritten in place with other
        // weights (a long-running host), it is loaded anew instead of served from the cache.
        var dir = Directory.CreateTempSubdirectory("delta-weights-").FullName;
        try
        {
            var path = Path.Combine(dir, "w.safetensors");
            using (var scope = NewDisposeScope())
                global::Delta.Backbones.Weights.StateDictFile.Write(path, random.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone()));
            var fromFile = registry.GetBase(Tiny() with { Weights = path });
            Assert.Equal(random.Identity.WeightsSha256, fromFile.Identity.WeightsSha256);
            Assert.Same(fromFile, registry.GetBase(Tiny() with { Weights = Path.GetRelativePath(Environment.CurrentDirectory, path) }));
            using (var scope = NewDisposeScope())
                global::Delta.Backbones.Weights.StateDictFile.Write(path, random.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.dtype == ScalarType.Float32 ? kv.Value + 1 : kv.Value.clone()));
            File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddSeconds(1));   // coarse timestamps
            var rewritten = registry.GetBase(Tiny() with { Weights = path });
            Assert.NotEqual(fromFile.Identity.WeightsSha256, rewritten.Identity.WeightsSha256);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void TrainableBaseIsAPrivateCopyThatTrainsWhileTheSharedBaseDoesNot()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var frozen = registry.CreateDelta(Tiny(stages: 1));
        var sharedHash = BaseWeightsHash.Compute(frozen.BaseModel);
        Assert.Contains("a trainable base (full fine-tuning) goes without Δ-modules",
            Assert.Throws<ArgumentException>(() => registry.CreateDelta(Tiny(stages: 1) with { TrainableBase = true })).Message);
        using var full = registry.CreateDelta(Tiny(stages: 0) with { TrainableBase = true });
        Assert.NotSame(frozen.BaseModel, full.BaseModel);
        Assert.Equal(sharedHash, BaseWeightsHash.Compute(full.BaseModel));   // starts from the same weights
        Assert.Equal(0, full.FrozenParameterCount);
        Assert.Contains(full.Module.state_dict().Keys, k => k == "base.conv1.weight");

        full.Train(true);
        Assert.True(full.BaseModel.training);
        using var optimizer = optim.SGD(full.TrainableParameters, 0.1);
        using (var scope = NewDisposeScope())
        {
            full.Forward(TestTensors.Input(2, 32)).Pooled.square().sum().backward();
            optimizer.step();
        }
        Assert.NotEqual(sharedHash, BaseWeightsHash.Compute(full.BaseModel));
        Assert.Equal(sharedHash, BaseWeightsHash.Compute(frozen.BaseModel));
    }

    [Fact]
    public void UnknownNamesListTheValidOnes()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var arch = Assert.Throws<ArgumentException>(() => registry.Create(new BackboneRequest { Architecture = "resnet19" }));
        Assert.Contains("resnet19", arch.Message);
        Assert.Contains("resnet18, resnet34", arch.Message);
        var weights = Assert.Throws<ArgumentException>(() => registry.Create(Tiny() with { Weights = "places365" }));
        Assert.Contains("places365", weights.Message);
        Assert.Contains("random", weights.Message);
        var stride = Assert.Throws<NotSupportedException>(() => registry.Create(Tiny() with { OutputStride = 8 }));
        Assert.Contains("Bottleneck", stride.Message);
    }

    [Fact]
    public void DilatedBottleneckReportsAndProducesItsStrides()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(Tiny(arch: "tiny_bottleneck") with { OutputStride = 8 });
        Assert.Equal(new[] { 4, 8, 8, 8 }, backbone.FeatureInfo.Select(f => f.Stride));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var f = backbone.Forward(TestTensors.Input(1, 64));
        foreach (var info in backbone.FeatureInfo)
            Assert.Equal(new long[] { 1, info.Channels, 64 / info.Stride, 64 / info.Stride }, f[info.Name].shape);
        Assert.Equal(backbone.NumFeatures, (int)f.Pooled.shape[1]);
    }

    [Fact]
    public void ImageNetPreprocessingNormalisesPerChannel()
    {
        using var scope = NewDisposeScope();
        var rgb = tensor(new float[] { 0.485f, 1f, 0.406f + 0.225f }).reshape(3, 1, 1);
        var y = ImageNetPreprocessing.Instance.Apply(rgb);
        Assert.True(y.allclose(tensor(new float[] { 0f, (1f - 0.456f) / 0.224f, 1f }).reshape(3, 1, 1), atol: 1e-6));
        Assert.Equal(new long[] { 2, 3, 4, 4 }, ImageNetPreprocessing.Instance.Apply(zeros(2, 3, 4, 4)).shape);
    }

    /// <summary>Random gates draw from the backbone's own generator: two backbones of one request draw the same gates
    /// whatever the global generator holds, putting the generator's state back repeats the draws (what a checkpoint
    /// does), and only the random variant has a generator to declare.</summary>
    [Fact]
    public void RandomGatesDrawFromTheBackbonesOwnGenerator()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var a = registry.Create(Tiny(stages: 2, variant: DeltaVariant.RandomGates));
        using var b = registry.Create(Tiny(stages: 2, variant: DeltaVariant.RandomGates));
        using var plain = registry.Create(Tiny(stages: 2));
        Assert.Single(a.Generators);
        Assert.Empty(plain.Generators);
        a.ReturnGates = b.ReturnGates = true;
        using var scope = NewDisposeScope();
        var x = randn(new long[] { 2, 3, 32, 32 }, generator: new Generator(9));
        Dictionary<string, Tensor> Gates(IDeltaBackbone backbone, long globalSeed)
        {
            manual_seed(globalSeed);
            using var noGrad = no_grad();
            return backbone.Forward(x).Gates!.ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        }
        var saved = a.Generators[0].get_state();
        var first = Gates(a, 1);
        var other = Gates(b, 2);
        var next = Gates(a, 1);
        a.Generators[0].set_state(saved);
        var again = Gates(a, 3);
        Assert.Equal(2, first.Count);
        foreach (var (stage, g) in first)
        {
            Assert.True(g.Equals(other[stage]), $"{stage}: another backbone of the same request drew other gates");
            Assert.False(g.Equals(next[stage]), $"{stage}: the next forward drew the same gates");
            Assert.True(g.Equals(again[stage]), $"{stage}: the restored state did not repeat the draws");
        }
    }
}
