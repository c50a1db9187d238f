using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Patches;
using Delta.Backbones.Registry;
using Delta.Data.Images;
using Delta.Plugins.DeepLabV3.Data;

namespace Delta.Plugins.DeepLabV3.Tests.Training;

/// <summary>The modes through the plugin's own train → patch → evaluate path, on a few generated images.</summary>
public sealed class TrainingModePluginTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("deeplab-modes-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Theory]
    [InlineData("frozen")]
    [InlineData("finetune")]
    public async Task ModeIsRecordedInThePatchAndTheSharedBaseIsUntouched(string mode)
    {
        var data = Path.Combine(dir, "data");
        TestData.Voc(data, count: 8, size: 40, seed: 2);
        using var registry = BackboneRegistry.CreateDefault();
        var context = TestData.Context(registry, dir);
        var options = new DeepLabV3Options { Mode = mode, OutputStride = 8, CropSize = 40, HeadChannels = 8, Overlays = 0 };
        var job = new JobSpec
        {
            // The job's default delta section (1 stage) is deliberately left on: frozen and finetune must ignore it.
            Name = "seg-" + mode, Plugin = DeepLabV3Plugin.Id, Backbone = "tiny_bottleneck", Weights = "random", Dataset = data, Seed = 1,
            Hyper = new TrainingHyperParameters { Epochs = 1, BatchSize = 2, LearningRate = 1e-2, Optimizer = "adamw" },
        };
        var shared = registry.GetBase(new BackboneRequest { Architecture = "tiny_bottleneck", Weights = "random", OutputStride = 8 }).Model;
        var sharedHash = BaseWeightsHash.Compute(shared);

        var plugin = new DeepLabV3Plugin();
        var trained = await plugin.TrainAsync(context, new TrainRequest { Job = job, Options = options, DatasetPath = data, OutputDir = Path.Combine(dir, "run") }, CancellationToken.None);

        Assert.Equal(sharedHash, BaseWeightsHash.Compute(shared));
        Assert.Equal(mode, trained.Patch.Manifest.Properties["mode"]);
        Assert.Equal(0, trained.Patch.Manifest.Delta.Stages);
        using (var patch = context.Patches.Load(job.Name))
        {
            var backboneKeys = patch.Tensors.Keys.Where(k => k.StartsWith("delta.", StringComparison.Ordinal)).ToList();
            if (mode == "frozen") Assert.Empty(backboneKeys);
            else
            {
                // The whole fine-tuned backbone travels in the patch: every base tensor, nothing else under "delta.".
                Assert.Equal(shared.state_dict().Keys.Select(k => "delta.base." + k).Order(), backboneKeys.Order());
            }
            Assert.Contains(patch.Tensors.Keys, k => k.StartsWith("head.", StringComparison.Ordinal));
        }
        // Loading the patch rebuilds the same mode: the score from the patch is the trained model's.
        var evaluated = await plugin.EvaluateAsync(context,
            new EvaluateRequest { Patch = job.Name, DatasetPath = data, Options = options, OutputDir = Path.Combine(dir, "eval"), Split = "val" }, CancellationToken.None);
        Assert.Equal(trained.Metrics["mIoU"], evaluated.Metrics["mIoU"], 9);
        Assert.Equal(sharedHash, BaseWeightsHash.Compute(shared));
    }

    [Fact]
    public async Task PredictIntoTheInputsOwnFolderKeepsTheInputsAndGivesSameNamedInputsPicturesOfTheirOwn()
    {
        var data = Path.Combine(dir, "data");
        TestData.Voc(data, count: 6, size: 40, seed: 3);
        using var registry = BackboneRegistry.CreateDefault();
        var context = TestData.Context(registry, dir);
        var options = new DeepLabV3Options { Mode = "frozen", OutputStride = 8, CropSize = 40, HeadChannels = 8, Overlays = 0 };
        var job = new JobSpec
        {
            Name = "seg-predict", Plugin = DeepLabV3Plugin.Id, Backbone = "tiny_bottleneck", Weights = "random", Dataset = data, Seed = 1,
            Hyper = new TrainingHyperParameters { Epochs = 1, BatchSize = 2, LearningRate = 1e-2 },
        };
        var plugin = new DeepLabV3Plugin();
        await plugin.TrainAsync(context, new TrainRequest { Job = job, Options = options, DatasetPath = data, OutputDir = Path.Combine(dir, "run") }, CancellationToken.None);

        // The user's pictures: two PNGs named alike in two folders; the output folder is the first one's own.
        var samples = new VocSegmentationDataset(data, "val").Samples;
        var mine = Directory.CreateDirectory(Path.Combine(dir, "mine")).FullName;
        var other = Directory.CreateDirectory(Path.Combine(dir, "other")).FullName;
        var first = Path.Combine(mine, "photo.png");
        var second = Path.Combine(other, "photo.png");
        ImageCodec.WritePng(first, ImageCodec.ReadRgb(samples[0].ImagePath));
        ImageCodec.WritePng(second, ImageCodec.ReadRgb(samples[1].ImagePath));
        var before = File.ReadAllBytes(first);

        var predicted = await plugin.PredictAsync(context,
            new PredictRequest { Patch = job.Name, Inputs = [first, second], Options = options, OutputDir = mine }, CancellationToken.None);

        Assert.Equal(before, File.ReadAllBytes(first));
        var items = predicted.Items.Cast<SegmentationPrediction>().ToList();
        var written = items.SelectMany(i => new[] { i.LabelPngPath, i.OverlayPath }).ToList();
        Assert.Equal(4, written.Distinct().Count());
        Assert.DoesNotContain(first, written);
        Assert.All(written, f => Assert.True(File.Exists(f), f));
    }
}
