using System.Diagnostics;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Data.Voc;
using Delta.Backbones.Registry;
using Delta.Plugins.DeepLabV3.Data;
using Delta.Plugins.DeepLabV3.Metrics;
using Delta.Plugins.DeepLabV3.Model;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Tests;

[Collection(SerialCollection.Name)]
public sealed class EndToEndTrainingTests(ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("deeplab-e2e-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    [Trait("Category", "Slow")]
    public async Task FrozenBaseWithDeltaLearnsSyntheticSegmentationThroughThePlugin()
    {
        var watch = Stopwatch.StartNew();
        var data = Path.Combine(dir, "data");
        TestData.Voc(data, count: 56, size: 64, seed: 11, valFraction: 0.3);
        using var registry = BackboneRegistry.CreateDefault();
        var context = TestData.Context(registry, dir);
        var options = new DeepLabV3Options
        {
            OutputStride = 8, CropSize = 64, MinScale = 0.75, MaxScale = 1.5, HeadChannels = 32, ValidationImages = 0, Overlays = 2,
        };
        var delta = new DeltaConfig { Stages = 2 };
        var job = new JobSpec
        {
            Name = "synthetic-seg", Plugin = DeepLabV3Plugin.Id, Backbone = "tiny_bottleneck", Weights = "random", Delta = delta, Dataset = data, Seed = 1,
            Hyper = new TrainingHyperParameters { Epochs = 20, BatchSize = 8, LearningRate = 5e-3, WeightDecay = 1e-4, Optimizer = "adamw", Schedule = "poly" },
        };

        // A freshly initialised model of the same configuration, for the baseline.
        manual_seed(1);
        double freshMIoU;
        using (var backbone = registry.Create(new BackboneRequest { Architecture = "tiny_bottleneck", Weights = "random", Delta = delta, OutputStride = 8, Seed = 1 }))
        using (var fresh = new DeepLabV3Model(backbone, 21, 8, 32, auxiliary: true))
            freshMIoU = SegmentationEvaluator.Evaluate(fresh, new VocSegmentationDataset(data, "val"), backbone.Preprocessing).MeanIoU;

        var plugin = new DeepLabV3Plugin();
        var trained = await plugin.TrainAsync(context,
            new TrainRequest { Job = job, Options = options, DatasetPath = data, OutputDir = Path.Combine(dir, "run") }, CancellationToken.None);
        var evaluated = await plugin.EvaluateAsync(context,
            new EvaluateRequest { Patch = "synthetic-seg", DatasetPath = data, Options = options, OutputDir = Path.Combine(dir, "eval"), Split = "val" }, CancellationToken.None);
        output.WriteLine($"fresh mIoU {freshMIoU:F3}; trained mIoU {trained.Metrics["mIoU"]:F3} (pixel acc {trained.Metrics["pixelAccuracy"]:F3}); " +
                         $"from patch {evaluated.Metrics["mIoU"]:F3}; {watch.Elapsed.TotalSeconds:F0} s");

        Assert.True(trained.Metrics["mIoU"] > freshMIoU + 0.2, $"mIoU {trained.Metrics["mIoU"]:F3} vs fresh {freshMIoU:F3}");
        // The saved patch (Δ + heads) reproduces the trained model's score exactly.
        Assert.Equal(trained.Metrics["mIoU"], evaluated.Metrics["mIoU"], 9);
        var ids = new VocSegmentationDataset(data, "val").Ids;
        Assert.All(ids, id => Assert.True(File.Exists(Path.Combine(dir, "eval", "predictions", id + ".png"))));
        Assert.All(PalettePng.Read(Path.Combine(dir, "eval", "predictions", ids[0] + ".png")).Indices, v => Assert.True(v < 21));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir, "eval", "overlays")).Length);

        var image = new VocSegmentationDataset(data, "val").Samples[0].ImagePath;
        var predicted = await plugin.PredictAsync(context,
            new PredictRequest { Patch = "synthetic-seg", Inputs = [image], Options = options, OutputDir = Path.Combine(dir, "predict") }, CancellationToken.None);
        var item = Assert.IsType<SegmentationPrediction>(Assert.Single(predicted.Items));
        Assert.True(File.Exists(item.LabelPngPath) && File.Exists(item.OverlayPath));
        Assert.Equal(1.0, item.ClassShares.Values.Sum(), 9);
    }
}
