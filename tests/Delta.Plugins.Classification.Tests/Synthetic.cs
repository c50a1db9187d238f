using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Patches;
using Delta.Backbones.Registry;
using Delta.Data.Datasets;
using Delta.Data.Images;
using Delta.Host.Training;
using Delta.Plugins.Classification.Data;
using Microsoft.Extensions.Logging.Abstractions;
using OpenCvSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Tests;

/// <summary>Small generated tasks and a real context (registry, patch store, the host's trainer) in a temp folder.</summary>
public sealed class Synthetic : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("delta-cls-").FullName;
    public BackboneRegistry Registry { get; } = BackboneRegistry.CreateDefault();

    public TaskContext Context() => new()
    {
        Backbones = Registry, Device = CPU, Logger = NullLogger.Instance, DataRoot = Dir, OutputRoot = Dir,
        Patches = new PatchStore(Path.Combine(Dir, "patches")), Trainer = new Trainer(),
    };

    /// <summary>A task whose class c is a bright square at a class-specific place on noise: learnable, deterministic per seed.</summary>
    /// <param name="maxTrainPerClass">caps the training split (0: every image that is not a test image trains), leaving the rest unused</param>
    public static TaskData Task(string name, int classes, int perClass, int seed, int size = 16, int maxTrainPerClass = 0)
    {
        var gen = new Generator((ulong)seed);
        var n = classes * perClass;
        var images = rand(new long[] { n, 3, size, size }, generator: gen) * 0.3f;
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            var c = i % classes;
            labels[i] = c;
            var x = (c * 5) % (size - 4); var y = (c * 3) % (size - 4);
            images[i, .., y..(y + 4), x..(x + 4)] = ones(3, 4, 4) * (0.6f + 0.1f * (seed % 3));
        }
        var data = new TensorImageDataset(name, images, labels, Enumerable.Range(0, classes).Select(c => $"c{c}").ToList());
        return DatasetResolver.Split(name, data, data, new ClassificationOptions { ImageSize = size, ValidationFraction = 0, TestFraction = 0.25, MaxTrainPerClass = maxTrainPerClass }, seed);
    }

    /// <summary>Real PNG files in an ImageFolder: class "left" has a bright bar on the left, "right" on the right.</summary>
    public static string ImageFolder(string root)
    {
        var rng = new Random(1);
        foreach (var (cls, x0) in new[] { ("left", 2), ("right", 18) })
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            for (int i = 0; i < 24; i++)
            {
                using var m = new Mat(32, 32, MatType.CV_8UC3, new OpenCvSharp.Scalar(rng.Next(40), rng.Next(40), rng.Next(40)));
                Cv2.Rectangle(m, new OpenCvSharp.Rect(x0 + rng.Next(3), 4, 8, 24), new OpenCvSharp.Scalar(230, 230, 230), -1);
                ImageCodec.WritePng(Path.Combine(root, cls, $"{i:D2}.png"), m);
            }
        }
        return root;
    }

    public void Dispose() { Registry.Dispose(); Directory.Delete(Dir, recursive: true); }
}
