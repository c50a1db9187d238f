using Delta.Abstractions.Patches;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Patches;
using Delta.Backbones.Registry;
using Delta.Data.Voc;
using Delta.Host.Training;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

/// <summary>train → evaluate → predict through the plugin API on a tiny generated VOCdevkit (a smoke test of the wiring,
/// not of learning: that is <see cref="EndToEndTests"/>).</summary>
public sealed class PluginApiTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-frcnn-api-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static FasterRcnnOptions TinyOptions => new()
    {
        MinSize = 64, MaxSize = 80, Stages = ["C3", "C4", "C5"], FpnChannels = 16, AnchorSizes = [16, 32, 64, 128],
        RepresentationSize = 32, RpnBatchSizePerImage = 64, RoiBatchSizePerImage = 32, ScoreThreshold = 0.0, DrawThreshold = 0.0,
    };

    [Fact]
    public void Options_Validation_Names_The_Offending_Keys()
    {
        var errors = new FasterRcnnOptions { MinSize = 8, AnchorSizes = [32], DetectionsPerImage = 0 }.Validate().ToList();
        Assert.Contains(errors, e => e.Contains("options.minSize"));
        Assert.Contains(errors, e => e.Contains("options.anchorSizes"));
        Assert.Contains(errors, e => e.Contains("options.detectionsPerImage"));
        Assert.Empty(new FasterRcnnOptions().Validate());
    }

    [Theory]
    [InlineData("delta", 1, "fpn")]
    [InlineData("frozen", 0, "fpn")]
    [InlineData("finetune", 0, "fpn")]
    [InlineData("delta", 1, "c4")]
    public async Task Train_Evaluate_Predict_Write_Patch_Metrics_Results_And_Drawings(string mode, int deltaStages, string head)
    {
        var data = Path.Combine(dir, "data");
        Assert.Equal(0, Commands.MakeVocCommand.Run(["--out", data, "--images", "12", "--size", "64", "--seed", "3"], CancellationToken.None));
        var devkit = Path.Combine(data, "VOCdevkit");
        using var registry = BackboneRegistry.CreateDefault();
        var context = new TaskContext
        {
            Backbones = registry, Device = CPU, Logger = NullLogger.Instance, DataRoot = dir, OutputRoot = dir,
            Patches = new PatchStore(Path.Combine(dir, "patches")), Trainer = new Trainer(),
        };
        var options = TinyOptions;
        options.Mode = mode;
        options.Head = head;
        var job = new JobSpec
        {
            Name = "tiny-det", Plugin = FasterRcnnPlugin.Id, Backbone = "tiny_resnet", Weights = "random", Delta = new DeltaConfig { Stages = deltaStages },
            Dataset = devkit, Seed = 1,
            Hyper = new TrainingHyperParameters { Epochs = 1, MaxSteps = 3, BatchSize = 2, LearningRate = 1e-3 },
        };
        var plugin = new FasterRcnnPlugin();

        var trained = await plugin.TrainAsync(context, new TrainRequest { Job = job, Options = options, DatasetPath = devkit, OutputDir = Path.Combine(dir, "run") }, CancellationToken.None);
        Assert.True(File.Exists(trained.Patch.Path) || Directory.Exists(trained.Patch.Path), $"patch not written: {trained.Patch.Path}");
        foreach (var key in new[] { "mAP_11pt", "mAP_area" })
            Assert.InRange(trained.Metrics[key], 0.0, 1.0);
        Assert.NotEmpty(trained.Artifacts);
        Assert.All(trained.Artifacts, f => Assert.True(File.Exists(f), f));
        var manifest = context.Patches.Inspect("tiny-det").Manifest;
        Assert.Equal("C3,C4,C5", manifest.Properties["stages"]);
        Assert.Equal("16", manifest.Properties["fpnChannels"]);
        Assert.Equal(mode, manifest.Properties["mode"]);
        Assert.Equal(head, manifest.Properties["head"]);
        Assert.Equal(mode == "finetune" ? "false" : "true", manifest.Properties["zeroDrop"]);
        // Only fine-tuning ships base weights (its private copy); Δ and frozen patches hold Δ + heads only.
        using (var patch = context.Patches.Load("tiny-det"))
        {
            Assert.Equal(mode == "finetune", patch.Tensors.Keys.Any(k => k.StartsWith("delta.base.", StringComparison.Ordinal)));
            Assert.Equal(mode == "delta", patch.Tensors.Keys.Any(k => k.StartsWith("delta.delta.", StringComparison.Ordinal)));
        }

        var evaluated = await plugin.EvaluateAsync(context, new EvaluateRequest { Patch = "tiny-det", DatasetPath = devkit, Options = options, OutputDir = Path.Combine(dir, "eval") }, CancellationToken.None);
        // The patch (Δ + heads) rebuilds the trained detector exactly.
        Assert.Equal(trained.Metrics["mAP_area"], evaluated.Metrics["mAP_area"], 9);
        Assert.Equal(trained.Metrics["mAP_11pt"], evaluated.Metrics["mAP_11pt"], 9);
        Assert.All(evaluated.Artifacts, f => Assert.True(File.Exists(f), f));

        var image = VocDetectionReader.Read(Path.Combine(devkit, "VOC2007"), "test").Images[0].ImagePath;
        var predicted = await plugin.PredictAsync(context, new PredictRequest { Patch = "tiny-det", Inputs = [image], Options = options, OutputDir = Path.Combine(dir, "predict") }, CancellationToken.None);
        var item = Assert.IsType<DetectionPrediction>(Assert.Single(predicted.Items));
        Assert.True(File.Exists(item.RenderedPath), item.RenderedPath);
        Assert.All(item.Boxes, b => Assert.True(double.IsFinite(b.Score) && b.X2 >= b.X1 && b.Y2 >= b.Y1, b.ToString()));

        // A damaged manifest value is an error naming the patch file, the key and the value.
        using (var patch = context.Patches.Load("tiny-det"))
        {
            var damaged = patch.Manifest with { Properties = new Dictionary<string, string>(patch.Manifest.Properties) { ["anchorSizes"] = "32,big" } };
            context.Patches.Save("tiny-det-damaged", damaged, patch.Tensors);
        }
        var e = await Assert.ThrowsAsync<PatchException>(() => plugin.EvaluateAsync(context,
            new EvaluateRequest { Patch = "tiny-det-damaged", DatasetPath = devkit, Options = options, OutputDir = Path.Combine(dir, "eval-damaged") }, CancellationToken.None));
        Assert.Contains("tiny-det-damaged.dpatch", e.Message);
        Assert.Contains("manifest property 'anchorSizes' = '32,big' is not a comma-separated list of numbers", e.Message);
    }

    [Fact]
    public async Task A_Dataset_That_Is_Not_A_VOCdevkit_Is_Bad_Input_Naming_The_Missing_Year_Folder()
    {
        // The user's mistake (pointing at VOC2007 itself, or at an image folder): InputException, which hosts report as
        // bad input (exit 2) with the message as is, before any model is built.
        var notDevkit = Directory.CreateDirectory(Path.Combine(dir, "data", "images")).FullName;
        using var registry = BackboneRegistry.CreateDefault();
        var context = new TaskContext
        {
            Backbones = registry, Device = CPU, Logger = NullLogger.Instance, DataRoot = dir, OutputRoot = dir,
            Patches = new PatchStore(Path.Combine(dir, "patches")), Trainer = new Trainer(),
        };
        var job = new JobSpec { Name = "no-voc", Plugin = FasterRcnnPlugin.Id, Backbone = "tiny_resnet", Weights = "random", Dataset = notDevkit };
        var e = await Assert.ThrowsAsync<Delta.Abstractions.InputException>(() => new FasterRcnnPlugin().TrainAsync(context,
            new TrainRequest { Job = job, Options = TinyOptions, DatasetPath = notDevkit, OutputDir = Path.Combine(dir, "run") }, CancellationToken.None));
        Assert.Contains(Path.Combine(notDevkit, "VOC2007"), e.Message);
        Assert.Contains("VOCdevkit", e.Message);
    }
}
