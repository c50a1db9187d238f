using Delta.Abstractions.Plugins;
using Delta.Backbones.Patches;
using Delta.Backbones.Registry;
using Delta.Data.Voc;
using Delta.Host.Training;
using Microsoft.Extensions.Logging.Abstractions;

namespace Delta.Plugins.DeepLabV3.Tests;

/// <summary>Generated VOC data (Delta.Data's shared generator: 6 VOC classes, labels 1/4/6/8/15/20, void borders) and a plugin context over temp folders.</summary>
internal static class TestData
{
    /// <returns>The VOC2007 year folder under <paramref name="root"/>.</returns>
    public static string Voc(string root, int count, int size, int seed, double valFraction = 0.25) =>
        SyntheticVocGenerator.Generate(root, new SyntheticVocOptions(Count: count, Width: size, Height: size, Seed: seed,
            ValFraction: valFraction, TestFraction: 0.05, WriteSegmentationObject: false));

    public static TaskContext Context(BackboneRegistry registry, string dir) => new()
    {
        Backbones = registry, Device = TorchSharp.torch.CPU, Logger = NullLogger.Instance, DataRoot = dir, OutputRoot = dir,
        Patches = new PatchStore(Path.Combine(dir, "patches")), Trainer = new Trainer(),
    };
}

/// <summary>Records progress reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
internal sealed class ProgressLog : IProgress<TrainProgress>
{
    public List<TrainProgress> Reports { get; } = [];
    public void Report(TrainProgress value) { lock (Reports) Reports.Add(value); }
}
