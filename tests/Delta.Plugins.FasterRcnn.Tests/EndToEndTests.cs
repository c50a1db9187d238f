using Delta.Abstractions.Training;
using System.Diagnostics;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Registry;
using Delta.Data.Voc;
using Delta.Host.Training;
using Delta.Plugins.FasterRcnn.Data;
using Delta.Plugins.FasterRcnn.Metrics;
using Delta.Plugins.FasterRcnn.Model;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

public sealed class EndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-frcnn-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    public static DetectorSettings TinySettings => new()
    {
        Stages = ["C3", "C4", "C5"],
        FpnChannels = 32,
        AnchorSizes = [16, 32, 64, 128],
        RepresentationSize = 128,
        NumClasses = VocClasses.Names.Count,
        Rpn = new RpnSettings(PreNmsTopNTrain: 300, PostNmsTopNTrain: 150, PreNmsTopNTest: 300, PostNmsTopNTest: 100, BatchSizePerImage: 128),
        RoiHeads = new RoiHeadSettings(BatchSizePerImage: 64),
    };

    // 300 steps at 128 px: fresh mAP(area) 0.000 → trained 0.183 (11-point 0.197), the same in every run so far. The whole
    // test takes 24 s (21.6 s of training) on the 2-core machine at load ~0.5 and 12.4 min at load ~20: its slowness under
    // load is the load. Fewer steps weaken it: 150 steps (lr 4e-3) reached 0.118, 200 (lr 3e-3) 0.104, 200 (lr 4e-3) 0.081,
    // 150 (lr 6e-3) 0.077 against the bar of fresh + 0.1, so it stays at 300.
    [Fact]
    [Trait("Category", "Slow")]
    public void Training_On_Synthetic_Voc_Learns_And_Leaves_The_Shared_Base_Untouched()
    {
        var voc = SyntheticVocGenerator.Generate(dir, new SyntheticVocOptions(Count: 150, Width: 128, Height: 128, Seed: 1, ValFraction: 0.1, TestFraction: 0.2));
        var train = VocDetectionReader.Read(voc, "trainval").Images;
        var test = VocDetectionReader.Read(voc, "test").Images;
        using var registry = BackboneRegistry.CreateDefault();
        var request = new BackboneRequest { Architecture = "tiny_resnet", Weights = "random", Delta = new DeltaConfig { Stages = 2 }, Seed = 1 };
        var sharedBase = registry.GetBase(request);
        var hashBefore = BaseWeightsHash.Compute(sharedBase.Model);
        using var backbone = registry.Create(request);
        Model.FasterRcnn model;
        using (DefaultGenerator.Seeded(0)) model = new Model.FasterRcnn(backbone, TinySettings);   // the heads' init, under the lock
        var transform = new DetectionTransform(MinSize: 128, MaxSize: 160);
        var trainLoader = new DetectionLoader(train, transform with { HorizontalFlip = true }, backbone.Preprocessing, CPU);
        var testLoader = new DetectionLoader(test, transform, backbone.Preprocessing, CPU);

        var fresh = DetectionEvaluator.Run(model, testLoader, test, 8).Ap;
        var sw = Stopwatch.StartNew();
        var hyper = new TrainingHyperParameters { Epochs = 100, MaxSteps = 300, BatchSize = 4, LearningRate = 2e-3, WeightDecay = 1e-4, Schedule = "cosine", WarmupSteps = 20, GradClipNorm = 10 };
        var outcome = DetectorTraining.Fit(new Trainer(), model, trainLoader, hyper, seed: 1);
        var trainSeconds = sw.Elapsed.TotalSeconds;
        var trained = DetectionEvaluator.Run(model, testLoader, test, 8).Ap;
        output.WriteLine($"steps {outcome.Steps} in {trainSeconds:F1}s; fresh mAP(area) {fresh.MeanApArea:F3} 11pt {fresh.MeanAp11Point:F3}; trained mAP(area) {trained.MeanApArea:F3} 11pt {trained.MeanAp11Point:F3}");
        foreach (var (c, ap) in trained.ApArea) output.WriteLine($"  {VocClasses.Names[c - 1]}: AP(area) {ap:F3}, AP(11pt) {trained.Ap11Point[c]:F3}");

        Assert.Equal(300, outcome.Steps);
        Assert.True(trained.MeanApArea > fresh.MeanApArea + 0.1, $"trained mAP {trained.MeanApArea:F3} vs fresh {fresh.MeanApArea:F3}");
        Assert.Equal(hashBefore, BaseWeightsHash.Compute(sharedBase.Model)); // zero drop: the frozen base never moved

        // Zero drop, functionally: the trained Δ-backbone with Δ switched off computes exactly the plain base's features.
        using var plain = registry.Create(request with { Delta = new DeltaConfig { Stages = 0 } });
        backbone.DeltaEnabled = false;
        backbone.Train(false);
        plain.Train(false);
        using (no_grad())
        using (var batch = testLoader.Load(test.Take(2).ToList(), null, includeDifficult: true))
        {
            var patched = backbone.Forward(batch.Images);
            var reference = plain.Forward(batch.Images);
            foreach (var stage in TinySettings.Stages)
                Assert.True(patched[stage].Equals(reference[stage]), $"stage {stage}: Δ-disabled features differ from the base's");
        }
    }
}
