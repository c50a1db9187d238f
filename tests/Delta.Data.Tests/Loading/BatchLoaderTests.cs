using Delta.Data.Datasets;
using Delta.Data.Images;
using Delta.Data.Loading;
using Delta.Data.Transforms;
using static TorchSharp.torch;

namespace Delta.Data.Tests.Loading;

[CollectionDefinition("TensorCount", DisableParallelization = true)]
public class TensorCountCollection;

/// <summary>Runs alone: Tensor.TotalCount is process-wide, so parallel tests would disturb the leak checks.</summary>
[Collection("TensorCount")]
public class BatchLoaderTests
{
    /// <summary>Item i is a constant image of value i/100 and label i % 3.</summary>
    private static TensorImageDataset Numbered(int n)
    {
        using var values = arange(0, n, dtype: ScalarType.Float32).div(100f).reshape(n, 1, 1, 1);
        return new TensorImageDataset("numbered", values.expand(n, 1, 4, 4).contiguous(), Enumerable.Range(0, n).Select(i => i % 3).ToArray(), ["a", "b", "c"]);
    }

    private static List<int> Ids(ImageBatch b) => b.Images[.., 0, 0, 0].mul(100f).round().to_type(ScalarType.Int32).data<int>().ToList();

    private static BatchLoader Loader(IImageDataset data, int batch, bool shuffle = false, bool dropLast = false, int seed = 0, int workers = 1, IImageTransform? transform = null, int prefetch = 2) =>
        new(data, Enumerable.Range(0, data.Count).ToList(), batch, 4, MeanStdPreprocessing.Identity, CPU)
        { Shuffle = shuffle, DropLast = dropLast, Seed = seed, Workers = workers, Transform = transform, Prefetch = prefetch };

    [Fact]
    public void InOrder_BatchesCoverTheDataset_LabelsMatch_LastBatchPartial()
    {
        using var data = Numbered(10);
        var seen = new List<int>();
        var sizes = new List<int>();
        foreach (var b in Loader(data, 4).Epoch(0))
        {
            using (b)
            {
                Assert.Equal(new long[] { b.Count, 3, 4, 4 }, b.Images.shape);
                Assert.Equal(ScalarType.Int64, b.Labels.dtype);
                var ids = Ids(b);
                Assert.Equal(ids.Select(i => (long)(i % 3)), b.Labels.data<long>().ToArray());
                seen.AddRange(ids); sizes.Add(b.Count);
            }
        }
        Assert.Equal(Enumerable.Range(0, 10), seen);
        Assert.Equal(new[] { 4, 4, 2 }, sizes);
        Assert.Equal(2, Loader(data, 4, dropLast: true).Epoch(0).Select(b => { b.Dispose(); return 1; }).Count());
    }

    [Fact]
    public void Shuffle_IsAPermutation_DeterministicPerSeedAndEpoch()
    {
        using var data = Numbered(20);
        List<int> Run(int seed, int epoch) => Loader(data, 6, shuffle: true, seed: seed).Epoch(epoch).SelectMany(b => { using (b) return Ids(b); }).ToList();
        var a = Run(1, 0);
        Assert.Equal(Enumerable.Range(0, 20), a.Order());
        Assert.NotEqual(Enumerable.Range(0, 20), a);
        Assert.Equal(a, Run(1, 0));
        Assert.NotEqual(a, Run(1, 1));
        Assert.NotEqual(a, Run(2, 0));
    }

    [Fact]
    public void WorkerPath_WithAugmentation_IsReproducibleWhateverTheWorkerCount()
    {
        using var data = Numbered(12);
        using var noisy = new TensorImageDataset("noisy", rand(12, 3, 16, 16, generator: new Generator(3)), Enumerable.Range(0, 12).Select(i => i % 3).ToArray(), ["a", "b", "c"]);
        var t = new Compose(new RandomResizedCrop(4), new HorizontalFlip());
        Tensor Run(int workers)
        {
            var parts = Loader(noisy, 5, shuffle: true, seed: 9, workers: workers, transform: t).Epoch(0).Select(b => { using (b) return b.Images.clone(); }).ToArray();
            try { return cat(parts); } finally { foreach (var p in parts) p.Dispose(); }
        }
        using var one = Run(1);
        using var two = Run(2);
        Assert.Equal(new long[] { 12, 3, 4, 4 }, one.shape);
        Assert.True(one.Equals(two));
    }

    /// <summary>Lets finalizers of tensors other tests dropped run now, not in the middle of the count.</summary>
    private static void Settle()
    {
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
    }

    [Fact]
    public void NoTensorsLeak_FullEpochAndEarlyExit()
    {
        using var data = Numbered(30);
        var t = new RandomResizedCrop(4);
        foreach (var b in Loader(data, 7, workers: 2, transform: t).Epoch(0)) b.Dispose();   // warm-up
        Settle();
        var before = Tensor.TotalCount;
        // The GC held off while counting: workers create tensors on their own threads (so per-thread statistics would
        // not balance), and a collection in between would let finalizers release tensors the loader leaked.
        Assert.True(GC.TryStartNoGCRegion(64_000_000), "could not hold the GC off for the count");
        try
        {
            for (int e = 0; e < 3; e++)
                foreach (var b in Loader(data, 7, shuffle: true, workers: 2, transform: t).Epoch(e)) b.Dispose();
            foreach (var b in Loader(data, 7, shuffle: true).Epoch(0)) b.Dispose();
            foreach (var b in Loader(data, 3, workers: 2, transform: t).Epoch(0)) { b.Dispose(); break; }     // stops the workers, frees the queue
            Assert.Equal(System.Runtime.GCLatencyMode.NoGCRegion, System.Runtime.GCSettings.LatencyMode);   // no collection ran
            Assert.Equal(before, Tensor.TotalCount);
        }
        finally
        {
            if (System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
    }

    [Fact]
    public void Prefetch_QueueNeverHoldsMoreThanTheBound()
    {
        using var data = Numbered(40);
        var loader = Loader(data, 2, workers: 2, transform: new HorizontalFlip(), prefetch: 3);
        foreach (var b in loader.Epoch(0)) { Thread.Sleep(15); b.Dispose(); }   // slow consumer: workers run ahead
        Assert.InRange(loader.PeakQueued, 2, 3);
    }

    [Fact]
    public void CorruptImage_SurfacesDecodeErrorNamingTheFile()
    {
        using var dir = new TempDir();
        Pngs.Gradient(dir.File("ok/a.png"), 8, 8, 1);
        File.WriteAllText(dir.File("ok/b.png"), "garbage");
        var data = FileImageDataset.ImageFolder(dir.Path, 4);
        var e = Assert.Throws<ImageDecodeException>(() => { foreach (var b in Loader(data, 2, workers: 2).Epoch(0)) b.Dispose(); });
        Assert.Equal(dir.File("ok/b.png"), e.FilePath);
    }
}
