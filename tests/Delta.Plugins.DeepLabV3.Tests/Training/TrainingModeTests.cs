using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Registry;
using Delta.Host.Training;
using Delta.Plugins.DeepLabV3.Data;
using Delta.Plugins.DeepLabV3.Model;
using Delta.Plugins.DeepLabV3.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Tests.Training;

/// <summary>Per mode: exactly the right parameters train (and reach the optimizer); the shared base never moves.</summary>
public sealed class TrainingModeTests
{
    private static BackboneRequest Request(SegmentationTrainingMode mode) =>
        SegmentationBackboneRequest.For(mode, "tiny_bottleneck", "random", new DeltaConfig { Stages = 2 }, outputStride: 8, CPU, seed: 1);

    [Theory]
    [InlineData(SegmentationTrainingMode.Delta)]
    [InlineData(SegmentationTrainingMode.Frozen)]
    [InlineData(SegmentationTrainingMode.FineTune)]
    public void OnlyTheModesParametersAreTrainableAndOnlyTheyMoveUnderTheOptimizer(SegmentationTrainingMode mode)
    {
        manual_seed(5);
        using var registry = BackboneRegistry.CreateDefault();
        var request = Request(mode);
        using var backbone = registry.CreateDelta(request);
        using var model = new DeepLabV3Model(backbone, 4, 8, headChannels: 16, auxiliary: true);
        var shared = registry.GetBase(request with { TrainableBase = false }).Model;
        var sharedHash = BaseWeightsHash.Compute(shared);

        var taskNames = backbone.Module.named_parameters().Select(p => p.name).ToList();
        var expected = model.Heads.parameters().Concat(backbone.Module.parameters()).ToList();
        switch (mode)
        {
            case SegmentationTrainingMode.Delta:
                Assert.Same(shared, backbone.BaseModel);
                Assert.NotEmpty(taskNames);
                Assert.All(taskNames, n => Assert.StartsWith("delta.", n));
                break;
            case SegmentationTrainingMode.Frozen:
                Assert.Same(shared, backbone.BaseModel);
                Assert.Empty(taskNames);
                Assert.Empty(backbone.TrainableParameters);
                break;
            case SegmentationTrainingMode.FineTune:
                Assert.NotSame(shared, backbone.BaseModel);
                Assert.All(taskNames, n => Assert.StartsWith("base.", n));
                Assert.Equal(shared.parameters().Sum(p => p.numel()), backbone.TrainableParameterCount);
                break;
        }
        // Exactly the heads + the backbone's task module: same tensors, none of the shared base's.
        Assert.Equal(Handles(expected), Handles(model.TrainableParameters));
        Assert.Empty(Handles(model.TrainableParameters).Intersect(Handles(shared.parameters())));
        Assert.All(model.TrainableParameters, p => Assert.True(p.requires_grad));
        Assert.All(shared.parameters(), p => Assert.False(p.requires_grad));

        var everything = shared.named_parameters().Select(p => ("shared." + p.name, p.parameter))
            .Concat(backbone.BaseModel == shared ? [] : backbone.BaseModel.named_parameters().Select(p => ("copy." + p.name, p.parameter)))
            .Concat(backbone.Module.named_parameters().Select(p => ("task." + p.name, p.parameter)))
            .Concat(model.Heads.named_parameters().Select(p => ("head." + p.name, p.parameter)))
            .GroupBy(p => p.parameter.Handle).Select(g => g.First()).ToList();
        var before = everything.ToDictionary(p => p.Item1, p => p.parameter.detach().clone());

        // The optimizer exactly as the host's Trainer builds it from TrainLoop.Parameters (the plugin passes model.TrainableParameters).
        var hyper = new Delta.Abstractions.Plugins.TrainingHyperParameters { Optimizer = "adamw", LearningRate = 1e-2, WeightDecay = 1e-2 };
        using var optimizer = Trainer.CreateOptimizer(model.TrainableParameters, hyper);
        var x = randn(2, 3, 40, 40);
        var y = randint(0, 4, [2, 40, 40]);
        model.Train(true);
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var losses = DeepLabV3Plugin.Losses(model, new SegmentationBatch(x.alias(), y.alias()), 0.5);
            (losses["seg"] + losses["aux"]).backward();
            optimizer.step();
        }

        var trainable = Handles(model.TrainableParameters);
        var moved = everything.Where(p => !p.parameter.Equals(before[p.Item1])).Select(p => p.Item1).ToList();
        Assert.All(everything.Where(p => !trainable.Contains(p.parameter.Handle)), p => Assert.DoesNotContain(p.Item1, moved));
        Assert.Contains(moved, n => n.StartsWith("head.", StringComparison.Ordinal));
        Assert.Equal(mode == SegmentationTrainingMode.Delta, moved.Any(n => n.StartsWith("task.delta.", StringComparison.Ordinal)));
        Assert.Equal(mode == SegmentationTrainingMode.FineTune, moved.Any(n => n.StartsWith("copy.", StringComparison.Ordinal)));
        Assert.DoesNotContain(moved, n => n.StartsWith("shared.", StringComparison.Ordinal));
        // Parameters AND BN running statistics of the shared base: bit-identical in every mode.
        Assert.Equal(sharedHash, BaseWeightsHash.Compute(shared));
        if (mode == SegmentationTrainingMode.FineTune) Assert.NotEqual(sharedHash, BaseWeightsHash.Compute(backbone.BaseModel));
        foreach (var t in before.Values) t.Dispose();
    }

    [Fact]
    public void ModeNamesParseAndBadOnesAreRejectedWithTheValidList()
    {
        Assert.Equal(SegmentationTrainingMode.Delta, new DeepLabV3Options().ParseMode());
        Assert.Equal(SegmentationTrainingMode.FineTune, SegmentationTrainingModes.Parse("finetune"));
        var problems = new DeepLabV3Options { Mode = "lora" }.Validate().ToList();
        Assert.Contains(problems, p => p.Contains("options.mode") && p.Contains("delta, frozen, finetune") && p.Contains("lora"));
        var e = Assert.Throws<Delta.Abstractions.InputException>(() => SegmentationBackboneRequest.For(SegmentationTrainingMode.Delta, "tiny_bottleneck", "random", DeltaConfig.None, 8, CPU, 0));
        Assert.Contains("\"frozen\"", e.Message);
        // frozen and finetune never build Δ-modules, whatever the job's delta section says; only finetune copies the base.
        Assert.Equal(0, Request(SegmentationTrainingMode.Frozen).Delta.Stages);
        Assert.False(Request(SegmentationTrainingMode.Frozen).TrainableBase);
        Assert.Equal(0, Request(SegmentationTrainingMode.FineTune).Delta.Stages);
        Assert.True(Request(SegmentationTrainingMode.FineTune).TrainableBase);
    }

    private static HashSet<IntPtr> Handles(IEnumerable<Parameter> parameters) => parameters.Select(p => p.Handle).ToHashSet();
}
