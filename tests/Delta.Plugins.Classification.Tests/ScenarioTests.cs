using Delta.Abstractions.Backbones;
using Delta.Plugins.Classification.Baselines;
using Delta.Plugins.Classification.Data;
using Delta.Plugins.Classification.Experiments;
using Delta.Plugins.Classification.Metrics;
using Delta.Plugins.Classification.Models;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Tests;

/// <summary>The paper's guarantee in each scenario: the base task's logits stay bit-identical, earlier patches keep their exact outputs.</summary>
public sealed class ScenarioTests : IDisposable
{
    private readonly Synthetic env = new();
    public void Dispose() => env.Dispose();

    private static readonly ExperimentSettings Settings = new()
    {
        Architecture = "tiny_resnet", Weights = "random", ImageSize = 16, Epochs = 2, BatchSize = 16, ProbeEpochs = 5, DeltaLearningRate = 5e-3,
    };

    [Fact]
    public void SingleTaskPatchingLeavesTheBaseTaskExactlyAsItWas()
    {
        var context = env.Context();
        using var baseModel = new BaseModel(env.Registry, Synthetic.Task("base", 4, 24, 1), Settings, CPU);
        var experiment = new PatchingExperiment(context, baseModel, Settings, env.Dir);
        var (result, model, _) = experiment.Delta(Synthetic.Task("new", 3, 24, 2), new DeltaConfig { Stages = 2 }, "single");
        using (model)
        {
            Assert.True(result.BaseLogitsIdentical);
            Assert.Equal(result.BaseBefore, result.BaseAfter);
            Assert.True(result.TrainableParameters > 0);
            // …and the patch learned the new task: chance is 1/3 on its 18 test images (measured: 11 of 18, loss 1.096 → 0.980).
            Assert.True(result.Patched >= 0.5, $"patched top-1 {result.Patched:P1}: the Δ patch learned nothing");
            Assert.True(result.EpochLosses[^1] < result.EpochLosses[0], $"epoch losses {string.Join(", ", result.EpochLosses)} did not fall");
        }
    }

    /// <summary>A method's figures depend on the experiment's seed only, not on which methods ran before it in the process
    /// (the demo with and without PAINT): here whatever last drew from libtorch's global generator differs between the runs.</summary>
    [Fact]
    public void AMethodsResultDoesNotDependOnWhatDrewFromTheGlobalGeneratorBefore()
    {
        var context = env.Context();
        var task = Synthetic.Task("t", 3, 24, 2);
        using var baseModel = new BaseModel(env.Registry, Synthetic.Task("base", 4, 24, 1), Settings, CPU);
        var experiment = new PatchingExperiment(context, baseModel, Settings, env.Dir);
        (MethodResult FcOnly, Dictionary<string, Tensor> DeltaState) Run(string name, int earlierDraws)
        {
            manual_seed(100 + earlierDraws);
            for (int i = 0; i < earlierDraws; i++) randn(97).Dispose();
            var fcOnly = experiment.FcOnly(task, name + "-fc");
            var (_, model, _) = experiment.Delta(task, new DeltaConfig { Stages = 2 }, name + "-delta");
            using (model) return (fcOnly, model.CheckpointState().ToDictionary(kv => kv.Key, kv => kv.Value.clone()));
        }
        var first = Run("first", 1);
        var second = Run("second", 3);
        Assert.Equal(first.FcOnly.EpochLosses, second.FcOnly.EpochLosses);
        Assert.Equal(first.FcOnly.Patched, second.FcOnly.Patched);
        Assert.Equal(first.DeltaState.Keys.Order(), second.DeltaState.Keys.Order());
        foreach (var (key, t) in first.DeltaState) Assert.True(t.Equals(second.DeltaState[key]), $"{key} differs between the runs");
    }

    /// <summary>The demo's test-set mean Λ per stage is the mean of each test image's own Λ (one full k×k matrix per
    /// stage, upper triangle filled) — the batch dimension is what gets averaged, nothing else.</summary>
    [Fact]
    public void MeanGatesAreTheAverageOfEachTestImagesOwnGates()
    {
        var context = env.Context();
        using var baseModel = new BaseModel(env.Registry, Synthetic.Task("base", 4, 24, 1), Settings, CPU);
        var experiment = new PatchingExperiment(context, baseModel, Settings, env.Dir);
        var (_, model, loaders) = experiment.Delta(Synthetic.Task("new", 3, 24, 2), new DeltaConfig { Stages = 2 }, "gates");
        using (model)
        {
            var mean = PatchingExperiment.MeanGates(model, loaders);
            Assert.Equal(2, mean.Count);
            var sums = new Dictionary<string, double[,]>();
            var n = 0;
            foreach (var b in loaders.Test.Epoch(0))
                using (b)
                    for (var i = 0; i < b.Count; i++, n++)
                        foreach (var (stage, m) in Delta.Plugins.Classification.Reports.GateMaps.ForImage(model.Backbone, b.Images[i]))
                        {
                            if (!sums.TryGetValue(stage, out var acc)) sums[stage] = acc = new double[m.GetLength(0), m.GetLength(1)];
                            for (var r = 0; r < m.GetLength(0); r++) for (var c = 0; c < m.GetLength(1); c++) acc[r, c] += m[r, c];
                        }
            foreach (var (stage, acc) in sums)
            {
                var k = acc.GetLength(0);
                Assert.Equal(k, model.Backbone.BlocksPerDeltaStage[stage]);
                for (var r = 0; r < k; r++)
                    for (var c = 0; c < k; c++)
                        if (r <= c) Assert.Equal(acc[r, c] / n, mean[stage][r, c], 1e-6);      // single vs batched forward: ~1e-7 apart
                        else Assert.True(double.IsNaN(mean[stage][r, c]));
            }
        }
    }

    [Fact]
    public void JointPatchingOfTwoTasksLeavesTheBaseExactAndCoversAllClasses()
    {
        var context = env.Context();
        using var baseModel = new BaseModel(env.Registry, Synthetic.Task("base", 4, 24, 1), Settings, CPU);
        var joint = JointTask.Concatenate([Synthetic.Task("a", 3, 20, 2), Synthetic.Task("b", 2, 20, 3)], 16);
        Assert.Equal(["a/c0", "a/c1", "a/c2", "b/c0", "b/c1"], joint.ClassNames);
        Assert.Contains(joint.TestIndices, i => joint.Test.Label(i) >= 3);             // task b's labels are offset
        var (result, model, _) = new PatchingExperiment(context, baseModel, Settings, env.Dir).Delta(joint, new DeltaConfig { Stages = 1 }, "joint");
        using (model)
        {
            Assert.Equal(5, model.NumClasses);
            Assert.True(result.BaseLogitsIdentical);
        }
    }

    [Fact]
    public void SequentialPatchingKeepsEveryEarlierTaskExact()
    {
        var context = env.Context();
        using var baseModel = new BaseModel(env.Registry, Synthetic.Task("base", 4, 24, 1), Settings, CPU);
        var experiment = new PatchingExperiment(context, baseModel, Settings, env.Dir);
        var (first, firstModel, firstLoaders) = experiment.Delta(Synthetic.Task("t1", 3, 24, 2), new DeltaConfig { Stages = 1 }, "t1");
        using var firstLogitsBefore = Logits(firstModel, firstLoaders);
        var (second, secondModel, secondLoaders) = experiment.Delta(Synthetic.Task("t2", 3, 24, 3), new DeltaConfig { Stages = 2 }, "t2");
        var (third, thirdModel, _) = experiment.Delta(Synthetic.Task("t3", 2, 24, 4), new DeltaConfig { Stages = 4 }, "t3");
        using var firstLogitsAfter = Logits(firstModel, firstLoaders);
        Assert.True(firstLogitsBefore.Equals(firstLogitsAfter));
        Assert.True(first.BaseLogitsIdentical); Assert.True(second.BaseLogitsIdentical); Assert.True(third.BaseLogitsIdentical);
        firstModel.Dispose(); secondModel.Dispose(); thirdModel.Dispose();
    }

    private static Tensor Logits(ClassifierModel model, Training.DataLoaders loaders)
    {
        using var noGrad = no_grad();
        var parts = loaders.Test.Epoch(0).Select(b => { using (b) return model.Logits(b.Images).DetachFromDisposeScope(); }).ToArray();
        return cat(parts);
    }

    [Fact]
    public void PaintAtAlphaZeroIsTheBaseAndAtOneTheFineTunedModelExactly()
    {
        manual_seed(5);
        var baseState = new Dictionary<string, Tensor> { ["base.w"] = randn(4, 3), ["base.bn.num_batches_tracked"] = tensor(3L) };
        var ft = new Dictionary<string, Tensor> { ["base.w"] = randn(4, 3), ["base.bn.num_batches_tracked"] = tensor(9L) };
        Assert.True(Paint.Interpolate(baseState, ft, 0)["base.w"].Equals(baseState["base.w"]));
        Assert.True(Paint.Interpolate(baseState, ft, 1)["base.w"].Equals(ft["base.w"]));
        var half = Paint.Interpolate(baseState, ft, 0.5)["base.w"];
        Assert.True(half.allclose((baseState["base.w"] + ft["base.w"]) / 2, 1e-6, 1e-6));
        Assert.Equal(9L, Paint.Interpolate(baseState, ft, 0.3)["base.bn.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void PaintSweepStartsAtTheBaseModelsAccuracy()
    {
        var context = env.Context();
        using var baseModel = new BaseModel(env.Registry, Synthetic.Task("base", 4, 24, 1), Settings, CPU);
        var (result, sweep) = new PatchingExperiment(context, baseModel, Settings, env.Dir).Paint(Synthetic.Task("new", 3, 24, 2));
        Assert.Equal(11, sweep.Count);
        Assert.Equal(baseModel.Top1, sweep[0].BaseTop1);                     // α = 0 is the base model
        Assert.Equal("model copy", result.PatchKind);
        Assert.False(result.BaseLogitsIdentical);
        // These tasks train on every image that is not a test image: no held-out images, so α is the oracle's, and says so.
        Assert.StartsWith("PAINT (oracle α=", result.Method);
        Assert.All(sweep, p => Assert.True(double.IsNaN(p.ValidationHarmonicMean)));
        var oracle = sweep.MaxBy(p => p.HarmonicMean)!;
        Assert.Equal((oracle.BaseTop1, oracle.PatchedTop1), (result.BaseAfter, result.Patched));
    }

    /// <summary>With images no split uses (the training splits capped), α is picked by the validation harmonic mean on
    /// those images and the row reports the test figures at that α.</summary>
    [Fact]
    public void PaintPicksAlphaOnHeldOutImagesAndReportsTestFiguresAtIt()
    {
        var context = env.Context();
        using var baseModel = new BaseModel(env.Registry, Synthetic.Task("base", 4, 24, 1, maxTrainPerClass: 10), Settings, CPU);
        var (result, sweep) = new PatchingExperiment(context, baseModel, Settings, env.Dir).Paint(Synthetic.Task("new", 3, 24, 2, maxTrainPerClass: 10));
        var picked = sweep.MaxBy(p => p.ValidationHarmonicMean)!;
        Assert.Equal($"PAINT (α={picked.Alpha:F1}, picked on validation)", result.Method);
        Assert.All(sweep, p => Assert.InRange(p.ValidationHarmonicMean, 0, 1));
        Assert.Equal((picked.BaseTop1, picked.PatchedTop1, picked.HarmonicMean), (result.BaseAfter, result.Patched, result.HarmonicMean));
    }

    [Fact]
    public void APatchReloadsOntoAFreshRegistryWithIdenticalOutputs()
    {
        var context = env.Context();
        var task = Synthetic.Task("t", 3, 24, 2);
        using var baseModel = new BaseModel(env.Registry, Synthetic.Task("base", 4, 24, 1), Settings, CPU);
        var (_, model, loaders) = new PatchingExperiment(context, baseModel, Settings, env.Dir).Delta(task, new DeltaConfig { Stages = 2 }, "reload");
        using (model)
        {
            using var before = Logits(model, loaders);
            using var other = Delta.Backbones.Registry.BackboneRegistry.CreateDefault();
            var (reloaded, manifest) = ClassifierPatch.Load(context.Patches, other, "reload", CPU);
            using (reloaded)
            {
                using var after = Logits(reloaded, loaders);
                Assert.True(before.Equals(after));
                Assert.Equal(task.ClassNames, manifest.ClassNames);
            }
        }
    }

    [Fact]
    public void DeltaChangesTheTaskOutputsButTheFrozenBaseWeightsNever()
    {
        var context = env.Context();
        var shared = env.Registry.GetBase(new BackboneRequest { Architecture = "tiny_resnet", Weights = "random" });
        var before = Delta.Backbones.Registry.BaseWeightsHash.Compute(shared.Model);
        using var baseModel = new BaseModel(env.Registry, Synthetic.Task("base", 4, 24, 1), Settings, CPU);
        var (_, model, loaders) = new PatchingExperiment(context, baseModel, Settings, env.Dir).Delta(Synthetic.Task("t", 3, 24, 2), new DeltaConfig { Stages = 4 }, "hash");
        using (model)
        {
            Assert.Equal(before, Delta.Backbones.Registry.BaseWeightsHash.Compute(shared.Model));
            using var on = Logits(model, loaders);
            model.Backbone.DeltaEnabled = false;
            using var off = Logits(model, loaders);
            Assert.False(on.Equals(off));                                    // the patch really does something
        }
    }
}
