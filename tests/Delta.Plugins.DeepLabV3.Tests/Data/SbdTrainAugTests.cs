using Delta.Abstractions.Plugins;
using Delta.Backbones.Registry;
using Delta.Data.Voc;

namespace Delta.Plugins.DeepLabV3.Tests.Data;

/// <summary>The SBD-augmented train list (ImageSets/Segmentation/train_aug.txt + SegmentationClassAug/) is what the plugin trains on when present.</summary>
public sealed class SbdTrainAugTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("deeplab-sbd-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    private static void WriteTrainAug(string year, IReadOnlyList<string> ids)
    {
        var aug = Directory.CreateDirectory(Path.Combine(year, VocSegmentationReader.AugMaskFolder)).FullName;
        foreach (var id in ids) File.Copy(Path.Combine(year, "SegmentationClass", id + ".png"), Path.Combine(aug, id + ".png"), overwrite: true);
        File.WriteAllLines(VocSegmentationReader.SplitListPath(year, VocSegmentationReader.TrainAug), ids);
    }

    [Fact]
    public void TrainAugReplacesTrainOnlyWhenPresentAndAllowed()
    {
        var year = TestData.Voc(dir, count: 8, size: 32, seed: 3);
        Assert.Equal("train", DeepLabV3Plugin.TrainSplitFor(dir, new DeepLabV3Options()));
        WriteTrainAug(year, VocSegmentationReader.ReadSplit(year, "train").Select(s => s.ImageId).Take(2).ToList());
        Assert.Equal("train_aug", DeepLabV3Plugin.TrainSplitFor(dir, new DeepLabV3Options()));
        Assert.Equal("train", DeepLabV3Plugin.TrainSplitFor(dir, new DeepLabV3Options { UseSbdTrainAug = false }));
        Assert.Equal("trainval", DeepLabV3Plugin.TrainSplitFor(dir, new DeepLabV3Options { TrainSplit = "trainval" }));
    }

    [Fact]
    public async Task PluginTrainsOnTheSbdListAndRefusesABrokenOrOverlappingOne()
    {
        var year = TestData.Voc(dir, count: 12, size: 32, seed: 4);
        var train = VocSegmentationReader.ReadSplit(year, "train").Select(s => s.ImageId).ToList();
        var val = VocSegmentationReader.ReadSplit(year, "val").Select(s => s.ImageId).ToList();
        Assert.True(train.Count > 3);
        var augIds = train.Take(3).ToList();
        WriteTrainAug(year, augIds);
        using var registry = BackboneRegistry.CreateDefault();
        var context = TestData.Context(registry, dir);
        var plugin = new DeepLabV3Plugin();
        var options = new DeepLabV3Options { Mode = "frozen", OutputStride = 8, CropSize = 32, HeadChannels = 8, AuxiliaryHead = false, ValidationImages = 1 };
        async Task<long> Steps(string name, DeepLabV3Options o)
        {
            var progress = new ProgressLog();
            var job = new JobSpec
            {
                Name = name, Plugin = DeepLabV3Plugin.Id, Backbone = "tiny_bottleneck", Weights = "random", Dataset = dir, Seed = 1,
                Hyper = new TrainingHyperParameters { Epochs = 1, BatchSize = 1, LearningRate = 1e-3, Optimizer = "adamw" },
            };
            await plugin.TrainAsync(context, new TrainRequest { Job = job, Options = o, DatasetPath = dir, OutputDir = Path.Combine(dir, name), Progress = progress }, CancellationToken.None);
            return progress.Reports.Max(r => r.TotalSteps);
        }

        // Batch 1, one epoch: one step per listed image.
        Assert.Equal(augIds.Count, await Steps("aug", options));
        // validationImages caps the per-epoch checks only: the patch's score is over the whole validation split, the
        // same images evaluate scores.
        var saved = context.Patches.Inspect("aug").Manifest.Metrics;
        Assert.True(val.Count > 1);
        Assert.Equal(val.Count, saved["images"]);
        var evaluated = await plugin.EvaluateAsync(context, new EvaluateRequest { Patch = "aug", DatasetPath = dir, Split = "val", Options = options, OutputDir = Path.Combine(dir, "eval") }, CancellationToken.None);
        Assert.Equal(saved["mIoU"], evaluated.Metrics["mIoU"]);
        Assert.Equal(saved["images"], evaluated.Metrics["images"]);
        Assert.Equal(train.Count, await Steps("plain", new DeepLabV3Options
        {
            Mode = "frozen", OutputStride = 8, CropSize = 32, HeadChannels = 8, AuxiliaryHead = false, ValidationImages = 1, UseSbdTrainAug = false,
        }));

        // A listed image without its SBD mask: the error names the missing mask and the list line.
        File.Delete(Path.Combine(year, VocSegmentationReader.AugMaskFolder, augIds[1] + ".png"));
        var e = await Assert.ThrowsAsync<VocFormatException>(() => Steps("broken", options));
        Assert.StartsWith(Path.Combine(year, VocSegmentationReader.AugMaskFolder, augIds[1] + ".png") + ":", e.Message);
        Assert.Contains("line 2 of", e.Message);

        // A list that holds validation images would score the model on what it trained on: refused.
        WriteTrainAug(year, [.. augIds, val[0]]);
        e = await Assert.ThrowsAsync<VocFormatException>(() => Steps("overlap", options));
        Assert.StartsWith(VocSegmentationReader.SplitListPath(year, VocSegmentationReader.TrainAug) + ":", e.Message);
        Assert.Contains($"shares 1 image(s) with the validation split 'val' (e.g. {val[0]})", e.Message);
        // Refused runs save nothing.
        Assert.Equal(["aug", "plain"], Directory.GetFiles(Path.Combine(dir, "patches"), "*" + Delta.Backbones.Patches.PatchStore.Extension).Select(Path.GetFileNameWithoutExtension).Order());
    }
}
