using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Host.Training;
using Delta.Plugins.Classification.Models;

namespace Delta.Plugins.Classification.Tests.Resume;

/// <summary>The plugin's train honours the request's CheckpointDir and Resume: an interrupted run leaves a checkpoint,
/// the resumed run continues from its step and ends bit-identical to an uninterrupted run.</summary>
public sealed class ResumeTests : IDisposable
{
    private readonly Synthetic env = new();
    public void Dispose() => env.Dispose();

    private TrainRequest Request(string name, string data, string? checkpoints, bool resume, IProgress<TrainProgress>? progress) => new()
    {
        Job = new JobSpec
        {
            Name = name, Plugin = "classification", Backbone = "tiny_resnet", Weights = "random", Delta = new DeltaConfig { Stages = 2 },
            Dataset = "bars", Hyper = new TrainingHyperParameters { Epochs = 2, BatchSize = 8, LearningRate = 5e-3 }, Seed = 3,
        },
        Options = new ClassificationOptions { ImageSize = 32, ValidationFraction = 0.1 },
        DatasetPath = data, OutputDir = Path.Combine(env.Dir, "runs", name), CheckpointDir = checkpoints, Resume = resume, Progress = progress,
    };

    /// <summary>Synchronous progress sink (System.Progress would post to the thread pool).</summary>
    private sealed class Steps(Action<long> onStep) : IProgress<TrainProgress>
    {
        public List<long> Seen { get; } = [];
        public void Report(TrainProgress value)
        {
            if (value.Step == 0 || Seen.Contains(value.Step)) return;    // epoch reports repeat the last step
            Seen.Add(value.Step);
            onStep(value.Step);
        }
    }

    [Fact]
    public async Task AnInterruptedRunResumesFromItsCheckpointAndEndsLikeAnUninterruptedOne()
    {
        var data = Synthetic.ImageFolder(Path.Combine(env.Dir, "bars"));
        var plugin = new ClassificationPlugin();
        var context = env.Context();
        var checkpoints = Path.Combine(env.Dir, "ckpt");

        var full = await plugin.TrainAsync(context, Request("full", data, null, false, null), CancellationToken.None);
        var totalSteps = (long)full.Metrics["steps"];
        Assert.True(totalSteps >= 6, $"need a few steps per epoch, got {totalSteps} in 2 epochs");

        // Interrupt in the first epoch after step 3: the loop saves a checkpoint at the next batch and stops.
        using var cts = new CancellationTokenSource();
        var first = new Steps(step => { if (step == 3) cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => plugin.TrainAsync(context, Request("resumed", data, checkpoints, false, first), cts.Token));
        Assert.Equal([1L, 2, 3], first.Seen);
        Assert.True(File.Exists(Checkpoint.PathIn(checkpoints)));

        var second = new Steps(_ => { });
        var resumed = await plugin.TrainAsync(context, Request("resumed", data, checkpoints, true, second), CancellationToken.None);
        Assert.Equal(4L, second.Seen[0]);                                               // continues at the saved step
        Assert.Equal(totalSteps, second.Seen[^1]);
        Assert.Equal(totalSteps, (long)resumed.Metrics["steps"]);
        Assert.Equal(full.Metrics["top1"], resumed.Metrics["top1"]);

        // Same CPU ops in the same order, optimizer + RNG state restored: the final patches are bit-identical.
        using var a = context.Patches.Load(full.Patch.Path);
        using var b = context.Patches.Load(resumed.Patch.Path);
        Assert.Equal(a.Tensors.Keys.Order(), b.Tensors.Keys.Order());
        Assert.All(a.Tensors, kv => Assert.True(kv.Value.Equals(b.Tensors[kv.Key]), $"{kv.Key} differs after resume"));

        // The Δ patch predicts with this image's gate maps beside it.
        var image = Directory.GetFiles(Path.Combine(data, "left"))[0];
        var predicted = await plugin.PredictAsync(context, new PredictRequest
        {
            Patch = "resumed", Inputs = [image], Options = new ClassificationOptions(), OutputDir = Path.Combine(env.Dir, "predict"),
        }, CancellationToken.None);
        var item = Assert.IsType<ClassificationPrediction>(Assert.Single(predicted.Items));
        Assert.Equal(3, item.GateMaps!.Count);                                          // composite + C4 + C5
        Assert.All(item.GateMaps, f => Assert.True(new FileInfo(f).Length > 0, f));
    }

    [Fact]
    public void TheHeadInitDependsOnTheSeedOnlyNotOnTheGlobalGenerator()
    {
        var request = new BackboneRequest { Architecture = "tiny_resnet", Weights = "random", Delta = DeltaConfig.None };
        using var a = new ClassifierModel(env.Registry.Create(request), 3);
        using var b = new ClassifierModel(env.Registry.Create(request), 3);
        TorchSharp.torch.manual_seed(1);
        a.ResetHead(7);
        TorchSharp.torch.manual_seed(2);                                               // another global state in between
        b.ResetHead(7);
        Assert.True(a.Head.weight.Equals(b.Head.weight));
        Assert.True(a.Head.bias!.Equals(b.Head.bias!));
        Assert.True(a.Head.weight.abs().max().item<float>() <= 1 / MathF.Sqrt(64));    // U(±1/√fan_in), fan_in = 64
        b.ResetHead(8);
        Assert.False(a.Head.weight.Equals(b.Head.weight));
    }
}
