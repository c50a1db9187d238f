using Delta.Abstractions.Plugins;
using Delta.Data.Images;
using Delta.Plugins.DomainAdapt.Data;
using Delta.Plugins.DomainAdapt.Patches;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Tests.Plugin;

/// <summary>train → evaluate → predict through the plugin API on real digits (a few steps of the test-size backbone).</summary>
public sealed class DomainAdaptPluginTests : IDisposable
{
    private readonly TestEnv env = new();
    public void Dispose() => env.Dispose();

    private static DomainAdaptOptions Options() => new()
    {
        Source = "optdigits", Target = "mnist", ImageSize = 16, DeltaStages = 2, TrainPerDomain = 40, TestPerDomain = 20,
        BatchSize = 8, SourceSteps = 3, AdaptSteps = 2, Seed = 1,
    };

    [Fact]
    public async Task TrainEvaluatePredict_PatchReproducesMetrics_AndPredictUsesTheTargetDelta()
    {
        var plugin = new DomainAdaptPlugin();
        var context = env.Context();
        var o = Options();
        var job = new JobSpec { Name = "da-test", Plugin = DomainAdaptPlugin.PluginId, Backbone = TestEnv.Arch, Weights = "random", Dataset = "unused" };
        var trained = await plugin.TrainAsync(context, new TrainRequest { Job = job, Options = o, DatasetPath = env.Dir, OutputDir = Path.Combine(env.Dir, "run") }, default);
        Assert.Equal(trained.Metrics["source_top1_before"], trained.Metrics["source_top1_after"]);   // Δ: the source task is exact

        // Evaluate splits the digits as training did (seed and counts recorded in the patch), whatever its own request's
        // options say: another seed or test count would score other images, some of them training images.
        var otherSplit = Options();
        otherSplit.Seed = 5; otherSplit.TestPerDomain = 30;
        var evaluated = await plugin.EvaluateAsync(context, new EvaluateRequest { Patch = "da-test", DatasetPath = env.Dir, Options = otherSplit, OutputDir = Path.Combine(env.Dir, "eval") }, default);
        Assert.Equal("1", trained.Patch.Manifest.Properties[AdaptPatch.SplitSeed]);
        Assert.Equal(trained.Metrics["source_top1_after"], evaluated.Metrics["source_top1"]);
        Assert.Equal(trained.Metrics["target_top1_after"], evaluated.Metrics["target_top1"]);
        // Only the held-out test images exist to score: another split is refused, not scored as the test split silently.
        var val = await Assert.ThrowsAsync<Delta.Abstractions.InputException>(() =>
            plugin.EvaluateAsync(context, new EvaluateRequest { Patch = "da-test", DatasetPath = env.Dir, Options = o, OutputDir = Path.Combine(env.Dir, "eval"), Split = "val" }, default));
        Assert.Contains("split 'val' does not exist here", val.Message);

        // Two real MNIST digits as PNG files, as a user would pass them.
        using var mnist = DigitDomains.Load("mnist", 28);
        var files = new[] { 0, 5000 }.Select(i =>
        {
            var path = Path.Combine(env.Dir, $"digit{i}.png");
            ImageCodec.WritePng(path, mnist.Images[i]);
            return path;
        }).ToList();
        var outDir = Path.Combine(env.Dir, "predict");
        var result = await plugin.PredictAsync(context, new PredictRequest { Patch = "da-test", Inputs = files, Options = o, OutputDir = outDir, TopK = 3 }, default);
        Assert.Equal(2, result.Items.Count);

        using var patch = AdaptPatch.Load(context.Patches, context.Backbones, "da-test", CPU);
        foreach (var item in result.Items.Cast<DigitPrediction>())
        {
            Assert.Equal("target", item.Domain);
            Assert.Equal(3, item.TopK.Count);
            Assert.True(item.TopK[0].Probability >= item.TopK[1].Probability && item.TopK[1].Probability >= item.TopK[2].Probability);
            Assert.True(File.Exists(item.RenderedImagePath));
            // The same probabilities as the target side of the patch applied by hand to the decoded file.
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            patch.Target.Backbone.Train(false);
            var x = DigitDomains.ToInput(ImageCodec.ReadRgb(item.Input).unsqueeze(0), patch.ImageSize);
            var probs = nn.functional.softmax(patch.Classifier.call(patch.Target.Features(x)), 1)[0];
            var best = probs.argmax().item<long>();
            Assert.Equal(best.ToString(), item.TopK[0].Label);
            Assert.Equal(probs[best].item<float>(), item.TopK[0].Probability, 5);
        }

        var viaSource = await plugin.PredictAsync(context, new PredictRequest { Patch = "da-test", Inputs = files, Options = o, OutputDir = outDir, TopK = 10 }, default);
        Assert.All(viaSource.Items.Cast<DigitPrediction>(), p => Assert.Equal(1.0, p.TopK.Sum(t => t.Probability), 4));

        var corrupt = Path.Combine(env.Dir, "bad.png");
        File.WriteAllBytes(corrupt, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => plugin.PredictAsync(context, new PredictRequest { Patch = "da-test", Inputs = [corrupt], Options = o, OutputDir = outDir }, default));
        Assert.Contains(corrupt, e.Message);
    }

    [Fact]
    public async Task PredictWithSource_UsesTheSourceDelta_AndBadSideIsAnError()
    {
        var plugin = new DomainAdaptPlugin();
        var context = env.Context();
        var o = Options();
        var job = new JobSpec { Name = "da-src", Plugin = DomainAdaptPlugin.PluginId, Backbone = TestEnv.Arch, Weights = "random", Dataset = "unused" };
        await plugin.TrainAsync(context, new TrainRequest { Job = job, Options = o, DatasetPath = env.Dir, OutputDir = Path.Combine(env.Dir, "run") }, default);
        using var optdigits = DigitDomains.Load("optdigits", 8);
        var file = Path.Combine(env.Dir, "o.png");
        ImageCodec.WritePng(file, optdigits.Images[3]);
        var outDir = Path.Combine(env.Dir, "p");
        var target = (DigitPrediction)(await plugin.PredictAsync(context, new PredictRequest { Patch = "da-src", Inputs = [file], Options = o, OutputDir = outDir, TopK = 10 }, default)).Items[0];
        var oSource = Options();
        oSource.PredictWith = "source";
        var source = (DigitPrediction)(await plugin.PredictAsync(context, new PredictRequest { Patch = "da-src", Inputs = [file], Options = oSource, OutputDir = outDir, TopK = 10 }, default)).Items[0];
        Assert.Equal("source", source.Domain);
        // ADDA moved the target Δ-modules, so the two sides give different probabilities for the same image.
        Assert.NotEqual(target.TopK.OrderBy(t => t.Label).Select(t => t.Probability), source.TopK.OrderBy(t => t.Label).Select(t => t.Probability));

        var bad = Options();
        bad.PredictWith = "both";
        var e = await Assert.ThrowsAsync<ArgumentException>(() => plugin.PredictAsync(context, new PredictRequest { Patch = "da-src", Inputs = [file], Options = bad, OutputDir = outDir }, default));
        Assert.Contains("predictWith", e.Message);
    }
}
