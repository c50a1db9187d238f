using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Plugins.Classification.Models;

namespace Delta.Plugins.Classification.Tests.Adapters;

/// <summary>`train` with options.adapter: the job trains the baseline, the patch says which, evaluate/predict rebuild it.</summary>
public sealed class AdapterJobTests : IDisposable
{
    private readonly Synthetic env = new();
    public void Dispose() => env.Dispose();

    private TrainRequest Request(string data, string adapter, int deltaStages) => new()
    {
        Job = new JobSpec
        {
            Name = "bars-bn", Plugin = "classification", Backbone = "tiny_resnet", Weights = "random", Delta = new DeltaConfig { Stages = deltaStages },
            Dataset = "bars", Hyper = new TrainingHyperParameters { Epochs = 1, BatchSize = 8, LearningRate = 5e-3 }, Seed = 3,
        },
        Options = new ClassificationOptions { ImageSize = 32, ValidationFraction = 0, Adapter = adapter },
        DatasetPath = data, OutputDir = Path.Combine(env.Dir, "runs"),
    };

    [Fact]
    public async Task ATrainJobWithAnAdapterSavesAnAdapterPatchThatEvaluatesAndPredicts()
    {
        var data = Synthetic.ImageFolder(Path.Combine(env.Dir, "bars"));
        var plugin = new ClassificationPlugin();
        var context = env.Context();

        var e = await Assert.ThrowsAsync<Delta.Abstractions.InputException>(() => plugin.TrainAsync(context, Request(data, "bn-adapt", 1), CancellationToken.None));
        Assert.Contains("delta.stages to 0", e.Message);
        Assert.Contains(new ClassificationOptions { Adapter = "lora" }.Validate(), m => m.Contains("adapter-series"));

        var trained = await plugin.TrainAsync(context, Request(data, "bn-adapt", 0), CancellationToken.None);
        Assert.Equal("bn-adapt", trained.Patch.Manifest.Properties[ClassifierPatch.AdapterProperty]);
        Assert.Equal(1200 + 64 * 2 + 2, trained.Metrics["trainable_parameters"]);     // tiny_resnet BN affine + head (see AdapterTests)

        var evaluated = await plugin.EvaluateAsync(context, new EvaluateRequest
        {
            Patch = "bars-bn", DatasetPath = data, Split = "test", Options = new ClassificationOptions { ImageSize = 32 }, OutputDir = Path.Combine(env.Dir, "eval"),
        }, CancellationToken.None);
        Assert.InRange(evaluated.Metrics["top1"], 0, 1);
        var predicted = await plugin.PredictAsync(context, new PredictRequest
        {
            Patch = "bars-bn", Inputs = [Directory.GetFiles(Path.Combine(data, "left"))[0]], Options = new ClassificationOptions(), OutputDir = Path.Combine(env.Dir, "predict"),
        }, CancellationToken.None);
        var item = Assert.IsType<ClassificationPrediction>(Assert.Single(predicted.Items));
        Assert.Null(item.GateMaps);                                                    // no Δ, no gates
        Assert.Equal(2, item.TopK.Count);
    }
}
