using Delta.Abstractions;
using Delta.Data.Images;
using OpenCvSharp;

namespace Delta.Plugins.Classification.Tests.Transfer;

/// <summary>`delta transfer` through the built host process on a tiny generated ImageFolder: all four methods, two fractions.</summary>
[Trait("Category", "Slow")]
public sealed class TransferCliTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-transfer-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    // One intra-op thread: on a loaded CI machine two threads wait at every op's barrier.
    private (int Code, string Out, string Err) Host(params string[] args) =>
        HostProcess.Run(dir, args, new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1" });

    /// <summary>Three classes of 16x16 PNGs: a bright bar at the left, middle or right.</summary>
    private void MakeImageFolder()
    {
        var rng = new Random(4);
        foreach (var (cls, x0) in new[] { ("left", 1), ("middle", 6), ("right", 11) })
        {
            var folder = Path.Combine(dir, "data", "bars3", cls);
            Directory.CreateDirectory(folder);
            for (int i = 0; i < 10; i++)
            {
                using var m = new Mat(16, 16, MatType.CV_8UC3, new OpenCvSharp.Scalar(rng.Next(40), rng.Next(40), rng.Next(40)));
                Cv2.Rectangle(m, new OpenCvSharp.Rect(x0 + rng.Next(2), 2, 3, 12), new OpenCvSharp.Scalar(230, 230, 230), -1);
                ImageCodec.WritePng(Path.Combine(folder, $"{i:D2}.png"), m);
            }
        }
    }

    [Fact]
    public void Transfer_verb_writes_the_table_for_every_method_and_fraction()
    {
        MakeImageFolder();
        var outDir = Path.Combine(dir, "out");
        var r = Host("transfer", "--data", "bars3", "--backbone", "tiny_resnet:random", "--fractions", "0.5,1", "--size", "16", "--batch", "8", "--steps", "2",
            "--queue", "4", "--projection-dim", "8", "--out", outDir);
        Assert.True(r.Code == 0, r.Err + r.Out);
        var md = File.ReadAllText(Path.Combine(outDir, "transfer.md"));
        foreach (var row in new[] { "| Vanilla fine-tuning |", "| Bi-Tuning |", "| Δ-Networks(4) |", "| Bi-Tuning + Δ-Networks(4) |" }) Assert.Contains(row, md);
        Assert.Contains("| Method | 50 % | 100 % | Mean | What trains |", md);
        Assert.Contains("fine-tunes backbone weights, no zero-drop guarantee", md);
        var lines = File.ReadAllLines(Path.Combine(outDir, "transfer.csv"));
        Assert.Equal(1 + 4 * 2, lines.Length);
        Assert.StartsWith("method,what_trains,fraction,train_images,top1,", lines[0]);
        Assert.Equal(2, lines.Count(l => l.StartsWith("Bi-Tuning + Δ-Networks(4),", StringComparison.Ordinal) && l.Contains(",true,")));   // base intact in both Δ runs
        Assert.Contains(lines, l => l.StartsWith("Vanilla fine-tuning,", StringComparison.Ordinal) && l.Contains(",0.5,12,"));             // 50 % of 8 train images per class × 3

        var bad = Host("transfer", "--data", "bars3", "--methods", "finetune,delta9");
        Assert.Equal(2, bad.Code);
        Assert.Contains("delta9", bad.Err);
    }
}
