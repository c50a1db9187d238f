using Delta.Data.Datasets;
using Delta.Data.Loading;
using Delta.Data.Transforms;

namespace Delta.Data.Tests.Loading;

public class DecodedCacheTests
{
    [Fact]
    public void BuildsOnce_ReusesLater_ValuesAreTheResizedItems_RebuildsWhenAFileChanges()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 5; i++) Pngs.Gradient(dir.File($"data/c{i % 2}/{i}.png"), 20 + i, 18, i * 9);
        var source = FileImageDataset.ImageFolder(dir.File("data"), 12);
        var cacheDir = dir.File("cache");
        using (var first = DecodedCache.Open(source, 10, cacheDir, workers: 2))
        {
            Assert.True(first.Built);
            Assert.Equal(5, first.Count);
            for (int i = 0; i < 5; i++)
            {
                using var fromCache = first.Load(i);
                using var decoded = source.Load(i);
                using var expected = Resize.To(decoded, 10, 10);
                Assert.Equal(new long[] { 3, 10, 10 }, fromCache.shape);
                Assert.True(fromCache.allclose(expected, rtol: 0, atol: 0.5 / 255 + 1e-6), $"item {i}");
                Assert.Equal(source.Label(i), first.Label(i));
            }
        }
        using (var again = DecodedCache.Open(source, 10, cacheDir))
        {
            Assert.False(again.Built);
            Assert.Single(Directory.GetFiles(cacheDir));
        }
        Pngs.Gradient(dir.File("data/c0/0.png"), 20, 18, 200);
        File.SetLastWriteTimeUtc(dir.File("data/c0/0.png"), DateTime.UtcNow.AddMinutes(1));
        using var changed = DecodedCache.Open(FileImageDataset.ImageFolder(dir.File("data"), 12), 10, cacheDir);
        Assert.True(changed.Built);
        Assert.Equal(2, Directory.GetFiles(cacheDir).Length);
    }

    /// <summary>Two items; reading the second waits until both builders got there, so their temporary files are open at once.</summary>
    private sealed class MeetingDataset(Barrier meeting) : IImageDataset
    {
        public string Name => "meeting";
        public IReadOnlyList<string> ClassNames => ["a"];
        public int Count => 2;
        public int Label(int index) => 0;
        public TorchSharp.torch.Tensor Load(int index)
        {
            if (index == 1) meeting.SignalAndWait(TimeSpan.FromSeconds(5));
            return TorchSharp.torch.full(3, 4, 4, index / 2f);
        }
    }

    /// <summary>Two jobs of one service (two devices, one dataset), or two containers with the same PID sharing the
    /// cache folder, build one cache at once: they had one temporary name, so one could not open it and deleted the
    /// other's on the way out.</summary>
    [Fact]
    public async Task TwoBuildersAtOnce_BothSucceed_AndLeaveOnlyTheCache()
    {
        using var dir = new TempDir();
        using var meeting = new Barrier(2);
        var source = new MeetingDataset(meeting);
        var builders = Enumerable.Range(0, 2).Select(_ => Task.Run(() => DecodedCache.Open(source, 4, dir.Path))).ToArray();
        var caches = await Task.WhenAll(builders);
        foreach (var cache in caches)
            using (cache)
            using (var second = cache.Load(1))
                Assert.Equal(0.5f, second[0, 0, 0].item<float>(), 2);
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Bench_ReportsPositiveThroughput()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 4; i++) Pngs.Gradient(dir.File($"d/c/{i}.png"), 64, 48, i);
        var r = LoaderBench.Run(FileImageDataset.ImageFolder(dir.File("d"), 64), new Compose(new RandomResizedCrop(32), new HorizontalFlip()), images: 16, workers: 2);
        Assert.Equal(16, r.Images);
        Assert.True(r.ImagesPerSecond > 0 && double.IsFinite(r.ImagesPerSecond));
        Assert.Equal(r.ImagesPerSecond / 2, r.ImagesPerSecondPerCore, 9);
    }
}
