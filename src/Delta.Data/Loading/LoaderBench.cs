using System.Diagnostics;
using Delta.Data.Datasets;
using Delta.Data.Transforms;
using static TorchSharp.torch;

namespace Delta.Data.Loading;

/// <summary>Throughput of the CPU side of loading (decode + augment to a fixed size), without the model.</summary>
public static class LoaderBench
{
    public sealed record Result(int Images, int Workers, double Seconds)
    {
        public double ImagesPerSecond => Images / Seconds;
        public double ImagesPerSecondPerCore => ImagesPerSecond / Workers;
        public override string ToString() => $"{Images} images, {Workers} workers: {ImagesPerSecond:F1} img/s ({ImagesPerSecondPerCore:F1} img/s per core)";
    }

    /// <summary>Loads and transforms the first <paramref name="images"/> items (wrapping around) on <paramref name="workers"/> threads; an untimed warm-up pass (each item once, at most <paramref name="images"/>) comes first.</summary>
    public static Result Run(IImageDataset data, IImageTransform transform, int images, int workers, int seed = 0)
    {
        if (data.Count == 0) throw new ArgumentException($"{data.Name}: empty dataset.");
        var options = new ParallelOptions { MaxDegreeOfParallelism = workers };
        void Pass(int count) => Parallel.For(0, count, options, i =>
        {
            using var scope = NewDisposeScope();
            var x = data.Load(i % data.Count);
            transform.Apply(x, new Random(ItemSeeds.For(seed, 0, i)));
        });
        Pass(Math.Min(images, Math.Max(data.Count, 4 * workers)));          // warm-up: JIT and libtorch/OpenCV lazy set-up cost ~10x the first pass
        var watch = Stopwatch.StartNew();
        Pass(images);
        return new Result(images, workers, watch.Elapsed.TotalSeconds);
    }
}
