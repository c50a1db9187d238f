using Delta.Abstractions.Backbones;
using Delta.Abstractions.Training;
using Delta.Backbones.Registry;
using Delta.Plugins.FasterRcnn.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

[CollectionDefinition(nameof(DefaultGeneratorAlone), DisableParallelization = true)]
public sealed class DefaultGeneratorAlone;

/// <summary>Jobs on several devices of one host start side by side; each seeds libtorch's default generator and builds
/// heads that draw their init from it. Built by <see cref="DefaultGenerator.SeededBuild"/> (as the plugin does), every
/// concurrent build equals the one built alone. Runs alone: test classes beside it draw from the default generator
/// without the lock, as a third-party plugin could.</summary>
[Collection(nameof(DefaultGeneratorAlone))]
public sealed class SeededBuildTests
{
    [Fact]
    public void Detectors_Built_Concurrently_Under_The_Seeded_Lock_Equal_One_Built_Alone()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var request = TrainingModes.Request(TrainingMode.Delta, "tiny_resnet", "random", new DeltaConfig { Stages = 2 }, CPU, seed: 1);
        Dictionary<string, Tensor> Build(long seed)
        {
            var (backbone, model) = DefaultGenerator.SeededBuild(seed, () => registry.Create(request), b => new Model.FasterRcnn(b, TinyDetector.Settings));
            using (backbone) using (model)
                return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        }
        var alone = Build(7);

        // Four "jobs" building with seed 7 and one with seed 8, twenty times each, released together every time.
        const int Jobs = 5, Rounds = 20;
        var results = new List<Dictionary<string, Tensor>>[Jobs];
        using var together = new Barrier(Jobs);
        var threads = Enumerable.Range(0, Jobs).Select(j => new Thread(() =>
        {
            results[j] = [];
            for (int r = 0; r < Rounds; r++)
            {
                together.SignalAndWait();
                results[j].Add(Build(j == Jobs - 1 ? 8 : 7));
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var same = results.Take(Jobs - 1).SelectMany(r => r).ToList();
        Assert.Equal((Jobs - 1) * Rounds, same.Count);
        foreach (var state in same)
            foreach (var (key, t) in alone) Assert.True(t.Equals(state[key]), $"{key}: a concurrent build drew another init");
        Assert.Contains(alone, kv => !kv.Value.Equals(results[Jobs - 1][0][kv.Key]));    // the other seed really differs
    }
}
