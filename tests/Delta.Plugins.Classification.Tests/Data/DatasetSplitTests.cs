using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Abstractions.Plugins;
using Delta.Plugins.Classification.Data;
using Xunit.Abstractions;

namespace Delta.Plugins.Classification.Tests.Data;

/// <summary>A patch records the dataset split it was trained with, and evaluate scores the images that training held out.</summary>
public sealed class DatasetSplitTests(ITestOutputHelper output) : IDisposable
{
    private readonly Synthetic env = new();
    public void Dispose() => env.Dispose();

    [Fact]
    public async Task EvaluateScoresTheTestImagesOfTheTrainingSplitWhateverItsOwnOptionsSay()
    {
        var data = Synthetic.ImageFolder(Path.Combine(env.Dir, "bars"));              // 2 classes × 24, no test split of its own
        var plugin = new ClassificationPlugin();
        var context = env.Context();
        var trained = await plugin.TrainAsync(context, new TrainRequest
        {
            Job = new JobSpec
            {
                Name = "bars", Plugin = "classification", Backbone = "tiny_resnet", Weights = "random", Delta = new DeltaConfig { Stages = 2 },
                Dataset = "bars", Hyper = new TrainingHyperParameters { Epochs = 3, BatchSize = 8, LearningRate = 5e-3 }, Seed = 3,
            },
            Options = new ClassificationOptions { ImageSize = 32, ValidationFraction = 0.1, TestFraction = 0.25 },
            DatasetPath = data, OutputDir = Path.Combine(env.Dir, "runs"),
        }, CancellationToken.None);
        Assert.Equal("3", trained.Patch.Manifest.Properties["split.seed"]);
        Assert.Equal("0.25", trained.Patch.Manifest.Properties["split.testFraction"]);

        // The request's options (default testFraction 0.2, no seed) do not re-split the data: seed 3 and 0.25 of each
        // class, 6 + 6 images, the same ones training scored — so the same top-1, exactly.
        var evaluated = await plugin.EvaluateAsync(context, new EvaluateRequest
        {
            Patch = "bars", DatasetPath = data, Split = "test", Options = new ClassificationOptions { ImageSize = 32 }, OutputDir = Path.Combine(env.Dir, "eval"),
        }, CancellationToken.None);
        output.WriteLine($"train top-1 {trained.Metrics["top1"]}, evaluate top-1 {evaluated.Metrics["top1"]} on {evaluated.Metrics["images"]} images");
        Assert.Equal(12, evaluated.Metrics["images"]);
        Assert.Equal(trained.Metrics["top1"], evaluated.Metrics["top1"]);
        Assert.True(trained.Metrics["top1"] >= 0.75, $"top-1 {trained.Metrics["top1"]} on bars after 3 epochs: nothing learned");   // chance is 0.5
    }

    [Fact]
    public void TheRecordedSplitReproducesTheTestIndicesAndAnotherSeedWouldNot()
    {
        var data = Synthetic.ImageFolder(Path.Combine(env.Dir, "bars"));
        var options = new ClassificationOptions { ImageSize = 32, TestFraction = 0.25, ValidationFraction = 0.1, MaxTrainPerClass = 15 };
        var original = DatasetResolver.Load(data, options, seed: 7);
        var manifest = new PatchManifest
        {
            Architecture = "tiny_resnet", BaseWeights = "random", BaseWeightsSha256 = "00", Delta = DeltaConfig.None, PluginId = "classification", Task = "bars",
            ClassNames = ["left", "right"], Properties = new Dictionary<string, string>(original.Split!.ToProperties()),
        };
        var recorded = DatasetSplit.FromManifest(manifest, "bars.dpatch")!;
        Assert.Equal(original.Split, recorded);
        var again = DatasetResolver.Load(data, recorded.ApplyTo(new ClassificationOptions { ImageSize = 32 }), recorded.Seed);
        Assert.Equal(original.TestIndices, again.TestIndices);
        Assert.Equal(original.TrainIndices, again.TrainIndices);
        Assert.Equal(original.ValIndices, again.ValIndices);
        Assert.NotEqual(original.TestIndices, DatasetResolver.Load(data, options, seed: 0).TestIndices);   // what evaluate used to do
    }

    [Fact]
    public void APartOrUnreadableRecordedSplitIsRefusedNamingThePatch()
    {
        var full = new DatasetSplit(3, 0.2, 0.1, 1, 0, 0).ToProperties().ToDictionary();
        PatchManifest With(Dictionary<string, string> p) => new()
        {
            Architecture = "tiny_resnet", BaseWeights = "random", BaseWeightsSha256 = "00", Delta = DeltaConfig.None, PluginId = "classification", Task = "t", Properties = p,
        };
        Assert.Null(DatasetSplit.FromManifest(With([]), "old.dpatch"));                   // saved before splits were recorded
        var part = new Dictionary<string, string>(full); part.Remove("split.seed");
        var e = Assert.Throws<PatchException>(() => DatasetSplit.FromManifest(With(part), "p.dpatch"));
        Assert.Contains("p.dpatch", e.Message);
        Assert.Equal("p.dpatch: manifest records only part of its dataset split (missing split.seed).", e.Message);
        var bad = new Dictionary<string, string>(full) { ["split.testFraction"] = "a fifth" };
        Assert.Equal("p.dpatch: manifest property 'split.testFraction' = 'a fifth' is not a number.",
            Assert.Throws<PatchException>(() => DatasetSplit.FromManifest(With(bad), "p.dpatch")).Message);
    }
}
