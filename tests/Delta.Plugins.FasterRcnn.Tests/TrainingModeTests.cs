using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Registry;
using Delta.Data.Voc;
using Delta.Host.Training;
using Delta.Plugins.FasterRcnn.Data;
using Delta.Plugins.FasterRcnn.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

/// <summary>Each training mode hands the optimizer exactly its parameter set, and after real optimizer steps the
/// shared base is bit-identical in every mode (fine-tuning moves only its private copy).</summary>
public sealed class TrainingModeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-frcnn-modes-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("delta")]
    [InlineData("frozen")]
    [InlineData("finetune")]
    public void Optimizer_Gets_Exactly_The_Modes_Parameters_And_The_Shared_Base_Never_Moves(string modeName)
    {
        var mode = TrainingModes.Parse(modeName);
        var voc = SyntheticVocGenerator.Generate(dir, new SyntheticVocOptions(Count: 6, Width: 64, Height: 64, Seed: 2, ValFraction: 0, TestFraction: 0.2));
        var train = VocDetectionReader.Read(voc, "trainval").Images;
        using var registry = BackboneRegistry.CreateDefault();
        var request = TrainingModes.Request(mode, "tiny_resnet", "random", new DeltaConfig { Stages = mode == TrainingMode.Delta ? 2 : 0 }, CPU, seed: 1);
        var shared = registry.GetBase(request);
        var sharedHash = BaseWeightsHash.Compute(shared.Model);
        using var backbone = registry.CreateDelta(request);
        manual_seed(0);
        using var model = new Model.FasterRcnn(backbone, TinyDetector.Settings);
        var loader = new DetectionLoader(train, new DetectionTransform(64, 80), backbone.Preprocessing, CPU);
        var hyper = new TrainingHyperParameters { Epochs = 1, MaxSteps = 2, BatchSize = 2, LearningRate = 1e-2, Schedule = "constant" };
        var loop = DetectorTraining.Loop(model, loader, hyper, seed: 1);

        // The expected set, built independently of FasterRcnn.TrainableParameters: the heads' own parameters plus the
        // backbone module's, which per mode are the Δ-modules, nothing, or the whole private base copy.
        var backboneParams = backbone.Module.named_parameters().ToList();
        switch (mode)
        {
            case TrainingMode.Delta:
                Assert.NotEmpty(backboneParams);
                Assert.All(backboneParams, p => Assert.StartsWith("delta.", p.name));
                Assert.True(backbone.BaseIsShared);
                break;
            case TrainingMode.Frozen:
                Assert.Empty(backboneParams);
                Assert.True(backbone.BaseIsShared);
                break;
            case TrainingMode.FineTune:
                Assert.All(backboneParams, p => Assert.StartsWith("base.", p.name));
                Assert.Equal(shared.Model.parameters().Count(), backboneParams.Count);
                Assert.False(backbone.BaseIsShared);
                break;
        }
        var expected = model.parameters().Concat(backboneParams.Select(p => p.parameter)).ToHashSet(ReferenceEqualityComparer.Instance);
        var given = loop.Parameters.ToHashSet(ReferenceEqualityComparer.Instance);
        Assert.Equal(loop.Parameters.Count, given.Count);                 // no parameter twice
        Assert.True(expected.SetEquals(given), $"{modeName}: optimizer gets {given.Count} parameters, expected {expected.Count}");
        var sharedParams = shared.Model.parameters().ToHashSet(ReferenceEqualityComparer.Instance);
        Assert.DoesNotContain(loop.Parameters, p => sharedParams.Contains(p));
        Assert.All(loop.Parameters, p => Assert.True(p.requires_grad));

        var before = Snapshot(model.named_parameters().Concat(backbone.Module.named_parameters()));
        var copyBuffersBefore = Snapshot(backbone.BaseModel.named_buffers());
        var outcome = new Trainer().Fit(loop, CancellationToken.None);
        Assert.Equal(2, outcome.Steps);

        var after = Snapshot(model.named_parameters().Concat(backbone.Module.named_parameters()));
        Assert.Contains(before.Keys, k => k.StartsWith("box_head.", StringComparison.Ordinal) && !before[k].SequenceEqual(after[k]));
        Assert.Equal(sharedHash, BaseWeightsHash.Compute(shared.Model));   // every mode: the registry's base is untouched
        switch (mode)
        {
            case TrainingMode.Delta:
                Assert.Contains(before.Keys, k => k.StartsWith("delta.", StringComparison.Ordinal) && !before[k].SequenceEqual(after[k]));
                Assert.Same(shared.Model, backbone.BaseModel);
                break;
            case TrainingMode.Frozen:
                Assert.Same(shared.Model, backbone.BaseModel);
                break;
            case TrainingMode.FineTune:
                Assert.NotSame(shared.Model, backbone.BaseModel);
                Assert.NotEqual(sharedHash, BaseWeightsHash.Compute(backbone.BaseModel));  // the private copy did train
                Assert.Contains(before.Keys, k => k.StartsWith("base.", StringComparison.Ordinal) && !before[k].SequenceEqual(after[k]));
                // ... but its BatchNorm kept the pretrained running statistics (eval during training).
                var copyBuffersAfter = Snapshot(backbone.BaseModel.named_buffers());
                Assert.All(copyBuffersBefore, kv => Assert.True(kv.Value.SequenceEqual(copyBuffersAfter[kv.Key]), $"buffer {kv.Key} moved"));
                break;
        }
    }

    [Fact]
    public void Mode_And_Delta_Stages_Must_Agree_And_Unknown_Modes_Are_Named()
    {
        var delta0 = new DeltaConfig { Stages = 0 };
        var delta2 = new DeltaConfig { Stages = 2 };
        Assert.Contains("delta.stages", Assert.Throws<ArgumentException>(() => TrainingModes.Request(TrainingMode.Delta, "tiny_resnet", "random", delta0, CPU, 0)).Message);
        Assert.Contains("delta.stages to 0", Assert.Throws<ArgumentException>(() => TrainingModes.Request(TrainingMode.Frozen, "tiny_resnet", "random", delta2, CPU, 0)).Message);
        Assert.Contains("delta.stages to 0", Assert.Throws<ArgumentException>(() => TrainingModes.Request(TrainingMode.FineTune, "tiny_resnet", "random", delta2, CPU, 0)).Message);
        Assert.True(TrainingModes.Request(TrainingMode.FineTune, "tiny_resnet", "random", delta0, CPU, 0).TrainableBase);
        Assert.False(TrainingModes.Request(TrainingMode.Frozen, "tiny_resnet", "random", delta0, CPU, 0).TrainableBase);
        Assert.False(TrainingModes.Request(TrainingMode.Delta, "tiny_resnet", "random", delta2, CPU, 0).TrainableBase);

        var headError = Assert.Single(new FasterRcnnOptions { Head = "c5" }.Validate());
        Assert.Contains("options.head 'c5'", headError);
        Assert.Empty(new FasterRcnnOptions { Head = "c4", AnchorSizes = [32, 64, 128, 256, 512, 1024] }.Validate()); // C4: any number of sizes
        var error = Assert.Single(new FasterRcnnOptions { Mode = "lora" }.Validate());
        Assert.Contains("options.mode 'lora'", error);
        Assert.Contains("delta, frozen, finetune", error);
        Assert.Equal("delta", new FasterRcnnOptions().Mode);
    }

    private static Dictionary<string, float[]> Snapshot(IEnumerable<(string name, Parameter parameter)> parameters) =>
        parameters.ToDictionary(p => p.name, p => p.parameter.detach().cpu().contiguous().data<float>().ToArray());

    private static Dictionary<string, float[]> Snapshot(IEnumerable<(string name, Tensor buffer)> buffers) =>
        buffers.Where(b => b.buffer.dtype == ScalarType.Float32).ToDictionary(b => b.name, b => b.buffer.detach().cpu().contiguous().data<float>().ToArray());
}
