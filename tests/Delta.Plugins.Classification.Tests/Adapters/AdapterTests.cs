using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Registry;
using Delta.Host.Training;
using Delta.Plugins.Classification.Adapters;
using Delta.Plugins.Classification.Experiments;
using Delta.Plugins.Classification.Models;
using Delta.Plugins.Classification.Training;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Tests.Adapters;

/// <summary>Residual adapters (series/parallel) and BN adaptation: exact identity at start, only their own tensors
/// train, the shared base never moves, hand-counted parameters, and patches that hold only adapter/BN tensors.</summary>
public sealed class AdapterTests : IDisposable
{
    private readonly Synthetic env = new();
    public void Dispose() => env.Dispose();

    private static readonly BackboneRequest Tiny = new() { Architecture = "tiny_resnet", Weights = "random" };

    private static readonly ExperimentSettings Settings = new()
    {
        Architecture = "tiny_resnet", Weights = "random", ImageSize = 16, Epochs = 2, BatchSize = 16, ProbeEpochs = 5, DeltaLearningRate = 5e-3,
    };

    public static TheoryData<AdapterKind> Kinds => new() { AdapterKind.Series, AdapterKind.Parallel, AdapterKind.BatchNorm };

    [Theory, MemberData(nameof(Kinds))]
    public void AtInitialisationTheAdaptedNetworkComputesTheBaseBitForBit(AdapterKind kind)
    {
        using var plain = env.Registry.Create(Tiny);
        using var adapted = AdaptedBackbone.Create(env.Registry, Tiny, kind);
        adapted.Train(false);
        manual_seed(3);
        using var x = randn(4, 3, 32, 32);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var expected = plain.Forward(x);
        var actual = adapted.Forward(x);
        foreach (var stage in expected.Stages.Keys) Assert.True(actual[stage].Equals(expected[stage]), $"stage {stage} differs at init");
        Assert.True(actual.Pooled.Equals(expected.Pooled));

        // The hooks are live: a non-zero adapter (or, for BN adaptation, a changed task BN) changes the output.
        if (kind == AdapterKind.BatchNorm) adapted.Norms[^1].Norm.weight!.add_(0.5);
        else foreach (var p in adapted.Adapters[^1].Adapter.parameters()) p.add_(0.1);
        Assert.False(adapted.Forward(x).Pooled.Equals(expected.Pooled));
        adapted.DeltaEnabled = false;                                       // the base task's path: the shared base
        Assert.True(adapted.Forward(x).Pooled.Equals(expected.Pooled));
    }

    // tiny_resnet: BasicBlock [2,2,2,2], widths 8/16/32/64, 16 3x3 convs (4 per stage), 20 BN layers.
    //   BN affine: stem 2·8 + per stage 2 blocks·2 BN·2C + shortcut BN 2C (stages 2–4) = 16 + 64 + 160 + 320 + 640 = 1200.
    //   series (C·C 1x1 conv + 2C adapter BN per 3x3 conv of C outputs): 4·(64+256+1024+4096) + 4·2·(8+16+32+64) = 21760 + 960 = 22720.
    //   parallel (Cin·Cout 1x1 conv per 3x3 conv): 4·64 + (128+3·256) + (512+3·1024) + (2048+3·4096) = 256 + 896 + 3584 + 14336 = 19072.
    [Theory]
    [InlineData(AdapterKind.Series, 22720 + 1200, 16)]
    [InlineData(AdapterKind.Parallel, 19072 + 1200, 16)]
    [InlineData(AdapterKind.BatchNorm, 1200, 0)]
    public void TrainableParameterCountsMatchTheHandCount(AdapterKind kind, long expected, int adapters)
    {
        using var adapted = AdaptedBackbone.Create(env.Registry, Tiny, kind);
        Assert.Equal(expected, adapted.TrainableParameterCount);
        Assert.Equal(adapters, adapted.Adapters.Count);
        Assert.Equal(20, adapted.Norms.Count);
        var baseTotal = env.Registry.GetBase(Tiny).Model.parameters().Sum(p => p.numel());
        Assert.Equal(baseTotal - 1200, adapted.FrozenParameterCount);
        using var model = new ClassifierModel(adapted, 3);
        Assert.Equal(expected + 64 * 3 + 3, model.TrainableParameterCount);
    }

    [Theory, MemberData(nameof(Kinds))]
    public void OnlyAdaptersAndTaskBatchNormTrainAndTheSharedBaseNeverChanges(AdapterKind kind)
    {
        var shared = env.Registry.GetBase(Tiny).Model;
        var hashBefore = BaseWeightsHash.Compute(shared);
        var sharedState = shared.state_dict();
        using var model = new ClassifierModel(AdaptedBackbone.Create(env.Registry, Tiny, kind), 3);
        var adapted = (AdaptedBackbone)model.Backbone;

        // The optimizer's list is exactly adapters + task BN affine + head; in the copy, conv weights (4-D) are frozen.
        var expected = adapted.Norms.SelectMany(n => n.Norm.parameters()).Concat(adapted.Module.parameters()).Concat(model.Head.parameters())
            .ToHashSet(ReferenceEqualityComparer.Instance);
        Assert.Equal(expected.Count, model.TrainableParameters.Count);
        Assert.All(model.TrainableParameters, p => Assert.Contains(p, expected));
        Assert.All(adapted.BaseCopy.named_parameters(), p => Assert.Equal(p.parameter.dim() == 1, p.parameter.requires_grad));

        var adapterBefore = adapted.Module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var task = Synthetic.Task("t", 3, 16, 2);
        var loaders = DataLoaders.For(task, adapted, 16, 8, 0);
        manual_seed(0);
        var outcome = PatchTraining.Fit(new Trainer(), model, loaders with { Val = null }, new TrainingHyperParameters { Epochs = 1, BatchSize = 8, LearningRate = 1e-2 }, CancellationToken.None);
        Assert.True(outcome.Steps >= 4);

        Assert.Equal(hashBefore, BaseWeightsHash.Compute(shared));
        var copyState = adapted.BaseCopy.state_dict();
        foreach (var (key, t) in copyState)
        {
            var isNorm = adapted.Norms.Any(n => key.StartsWith(n.Path + ".", StringComparison.Ordinal));
            if (!isNorm) Assert.True(t.Equals(sharedState[key]), $"{key}: a frozen weight of the copy moved");
        }
        // The task's BN moved — affine parameters and running statistics — in the copy only.
        var last = adapted.Norms[^1];
        Assert.False(last.Norm.weight!.Equals(sharedState[last.Path + ".weight"]));
        Assert.False(last.Norm.running_mean!.Equals(sharedState[last.Path + ".running_mean"]));
        Assert.Equal(outcome.Steps, last.Norm.num_batches_tracked!.item<long>() - sharedState[last.Path + ".num_batches_tracked"].item<long>());
        if (kind != AdapterKind.BatchNorm)
            Assert.All(adapted.Adapters, a => Assert.False(a.Adapter.state_dict().Where(kv => kv.Key.EndsWith("conv.weight")).Single().Value
                .Equals(adapterBefore[a.Path.Replace('.', '_') + ".conv.weight"]), $"{a.Path}: adapter did not train"));
    }

    [Theory, MemberData(nameof(Kinds))]
    public void APatchHoldsOnlyAdapterAndBatchNormTensorsAndReloadsExactly(AdapterKind kind)
    {
        var context = env.Context();
        using var baseModel = new BaseModel(env.Registry, Synthetic.Task("base", 4, 24, 1), Settings, CPU);
        var name = AdapterKinds.Name(kind);
        var (result, model, loaders) = new PatchingExperiment(context, baseModel, Settings, env.Dir).Adapter(Synthetic.Task("t", 3, 24, 2), kind, name);
        using (model)
        {
            Assert.True(result.BaseLogitsIdentical);
            Assert.Equal(result.BaseBefore, result.BaseAfter);
            Assert.Equal(model.TrainableParameterCount, result.TrainableParameters);

            var summary = context.Patches.Inspect(name);
            Assert.Equal(summary.SizeBytes, result.PatchBytes);
            Assert.Equal(name, summary.Manifest.Properties[ClassifierPatch.AdapterProperty]);
            using (var patch = context.Patches.Load(summary.Path, model.Backbone.Base))
            {
                Assert.Equal(model.CheckpointState().Keys.Order(), patch.Tensors.Keys.Order());
                Assert.All(patch.Tensors.Keys, k => Assert.True(k.StartsWith("adapter.") || k.StartsWith("bn.") || k.StartsWith("head."), k));
                Assert.All(patch.Tensors.Where(kv => kv.Value.dim() == 4), kv => Assert.StartsWith("adapter.", kv.Key));   // no base conv weight
                Assert.Equal(kind != AdapterKind.BatchNorm, patch.Tensors.Keys.Any(k => k.StartsWith("adapter.")));
            }

            using var before = Logits(model, loaders);
            model.Backbone.DeltaEnabled = false;
            using (var shared = Logits(model, loaders)) Assert.False(before.Equals(shared));   // the adapted path really differs
            model.Backbone.DeltaEnabled = true;
            using var other = BackboneRegistry.CreateDefault();
            var (reloaded, manifest) = ClassifierPatch.Load(context.Patches, other, name, CPU);
            using (reloaded)
            {
                Assert.IsType<AdaptedBackbone>(reloaded.Backbone);
                using var after = Logits(reloaded, loaders);
                Assert.True(before.Equals(after));
            }
        }
    }

    [Fact]
    public void LoadingAnotherAdaptersStateFailsNamingTheKeys()
    {
        using var series = AdaptedBackbone.Create(env.Registry, Tiny, AdapterKind.Series);
        using var parallel = AdaptedBackbone.Create(env.Registry, Tiny, AdapterKind.Parallel);
        var e = Assert.Throws<ArgumentException>(() => parallel.LoadDeltaState(series.DeltaState()));
        Assert.Contains("adapter-parallel", e.Message);
        Assert.Contains("adapter.layer1.0.conv1.bn.weight", e.Message);        // a series key the parallel adapter lacks
    }

    [Fact]
    public void ConvNeXtHasNoBatchNormToAdapt()
    {
        var e = Assert.Throws<NotSupportedException>(() => AdaptedBackbone.Create(env.Registry, Tiny with { Architecture = "tiny_convnext" }, AdapterKind.BatchNorm));
        Assert.Contains("tiny_convnext", e.Message);
    }

    private static Tensor Logits(ClassifierModel model, DataLoaders loaders)
    {
        using var noGrad = no_grad();
        var parts = loaders.Test.Epoch(0).Select(b => { using (b) return model.Logits(b.Images).DetachFromDisposeScope(); }).ToArray();
        try { return cat(parts); } finally { foreach (var p in parts) p.Dispose(); }
    }
}
