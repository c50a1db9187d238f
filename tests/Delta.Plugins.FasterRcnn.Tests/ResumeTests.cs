using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Backbones.Registry;
using Delta.Data.Voc;
using Delta.Host.Training;
using Delta.Plugins.FasterRcnn.Data;
using Delta.Plugins.FasterRcnn.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

/// <summary>An interrupted detector run resumed from its checkpoint ends bit for bit where the uninterrupted run ends:
/// besides the weights and the optimizer, the checkpoint must carry the RPN and RoI samplers' generator (which
/// restarted from the seed on resume before <see cref="TrainLoop{TBatch}.Generators"/> existed).</summary>
public sealed class ResumeTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-frcnn-resume-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private sealed class CancelAt(long step, CancellationTokenSource cts) : ITrainHook
    {
        public void OnStep(StepReport report, TrainState state) { if (report.Step == step) cts.Cancel(); }
    }

    [Fact]
    public void A_Resumed_Run_Ends_Bit_Identical_To_An_Uninterrupted_One()
    {
        var voc = SyntheticVocGenerator.Generate(Path.Combine(dir, "voc"), new SyntheticVocOptions(Count: 8, Width: 64, Height: 64, Seed: 4, ValFraction: 0, TestFraction: 0));
        var train = VocDetectionReader.Read(voc, "trainval").Images;
        using var registry = BackboneRegistry.CreateDefault();
        var request = TrainingModes.Request(TrainingMode.Delta, "tiny_resnet", "random", new DeltaConfig { Stages = 2 }, CPU, seed: 1);
        var hyper = new TrainingHyperParameters { Epochs = 2, BatchSize = 2, LearningRate = 1e-2, Schedule = "cosine" };
        IReadOnlyDictionary<string, Tensor>? start = null;

        // Every run starts from the same weights: the first model's, copied, so that nothing depends on the global generator.
        (IDeltaBackbone Backbone, Model.FasterRcnn Model) Build()
        {
            var backbone = registry.Create(request);
            var model = new Model.FasterRcnn(backbone, TinyDetector.Settings);
            if (start is null) start = new DetectorState(model).CheckpointState().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
            else new DetectorState(model).LoadCheckpointState(start);
            return (backbone, model);
        }
        TrainOutcome Run(Model.FasterRcnn model, string? checkpoints = null, bool resume = false, ITrainHook? hook = null, CancellationToken ct = default)
        {
            var loader = new DetectionLoader(train, new DetectionTransform(64, 80), model.Backbone.Preprocessing, CPU);
            var loop = DetectorTraining.Loop(model, loader, hyper, seed: 1, checkpointDir: checkpoints, resume: resume);
            if (hook is not null) loop.Hooks.Add(hook);
            return new Trainer().Fit(loop, ct);
        }
        Dictionary<string, Tensor> Final(Model.FasterRcnn model) =>
            new DetectorState(model).CheckpointState().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var (b1, reference) = Build();
        var referenceOutcome = Run(reference);
        Assert.True(referenceOutcome.Steps >= 6, $"{referenceOutcome.Steps} steps");
        var expected = Final(reference);

        var ckpt = Path.Combine(dir, "ckpt");
        var (b2, interrupted) = Build();
        using (var cts = new CancellationTokenSource())
            Assert.ThrowsAny<OperationCanceledException>(() => Run(interrupted, ckpt, hook: new CancelAt(3, cts), ct: cts.Token));

        var (b3, resumed) = Build();
        var outcome = Run(resumed, ckpt, resume: true);
        Assert.True(outcome.Resumed);
        Assert.Equal(referenceOutcome.Steps, outcome.Steps);
        var actual = Final(resumed);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, t) in expected) Assert.True(t.Equals(actual[key]), $"{key} differs after the resume");
        foreach (var d in new IDisposable[] { reference, interrupted, resumed, b1, b2, b3 }) d.Dispose();
    }
}
