using Delta.Data.Rendering;
using OpenCvSharp;
using static TorchSharp.torch;

namespace Delta.Data.Tests.Rendering;

/// <summary>Every chart writes a decodable PNG of the expected size with real content. Set DELTA_CHART_DIR to keep the
/// PNGs for a look (they go to a temporary folder otherwise).</summary>
public class ChartTests : IDisposable
{
    private readonly TempDir temp = new();
    private string Out(string name) =>
        Path.Combine(Environment.GetEnvironmentVariable("DELTA_CHART_DIR") is { Length: > 0 } keep ? Directory.CreateDirectory(keep).FullName : temp.Path, name);
    public void Dispose() => temp.Dispose();

    /// <summary>Decodes the PNG and checks its size, that it is not blank, and how many colours it uses.</summary>
    private static void AssertPicture(string path, int? width, int? height, int minColours, double minInkShare = 0.01)
    {
        using var img = Cv2.ImRead(path, ImreadModes.Color);
        Assert.False(img.Empty(), $"{path} does not decode");
        if (width is int w) Assert.Equal(w, img.Width);
        if (height is int h) Assert.Equal(h, img.Height);
        var colours = new HashSet<int>();
        long ink = 0;
        img.GetArray(out Vec3b[] pixels);
        foreach (var p in pixels)
        {
            colours.Add(p.Item0 | p.Item1 << 8 | p.Item2 << 16);
            if (p.Item0 < 250 || p.Item1 < 250 || p.Item2 < 250) ink++;
        }
        Assert.True(colours.Count >= minColours, $"{path}: only {colours.Count} colours");
        Assert.True(ink > minInkShare * pixels.Length, $"{path}: almost blank ({ink} ink pixels)");
    }

    /// <summary>A title far wider than the image: nothing of it lands left of the plot (where the y label sits) or
    /// touches the right edge; it is still drawn.</summary>
    [Fact]
    public void A_long_title_stays_inside_the_image_and_clear_of_the_axis_label()
    {
        var path = Out("long-title.png");
        Charts.Scatter(path, string.Concat(Enumerable.Repeat("mnist -> optdigits (optdigits is not USPS): pooled features, PCA ", 3)),
            [("a", 0, 0), ("b", 1, 1)], yLabel: "");
        using var img = Cv2.ImRead(path, ImreadModes.Grayscale);
        using var band = img[new Rect(0, 5, img.Width, 26)];                      // the title's rows
        band.GetArray(out byte[] px);
        int Ink(int x0, int x1) => Enumerable.Range(0, 26).Sum(r => Enumerable.Range(x0, x1 - x0).Count(x => px[r * img.Width + x] < 200));
        Assert.Equal(0, Ink(0, 68));
        Assert.Equal(0, Ink(img.Width - 8, img.Width));
        Assert.True(Ink(70, img.Width - 10) > 200, "the title was not drawn");
    }

    [Fact]
    public void Lines_TrainingCurves()
    {
        var path = Out("lines.png");
        Charts.Lines(path, "Training loss", "loss", [
            ("train", [2.3, 1.6, 1.1, 0.8, 0.62, 0.55, 0.5, 0.46]),
            ("val", [2.2, 1.7, 1.3, 1.05, 0.95, 0.93, 0.92, 0.94]),
            ("Δ(4) train", [2.3, 1.4, 0.9, 0.7, 0.5, 0.42, 0.37, 0.33])]);
        AssertPicture(path, 720, 420, minColours: 20);
    }

    [Fact]
    public void GroupedBars_MethodsByMetrics()
    {
        var path = Out("bars.png");
        Charts.GroupedBars(path, "Table 2: top-1 (%)", "top-1 %", ["FC-only", "PAINT", "Δ(1)", "Δ(4)"], ["base", "patched", "harmonic"],
            new double[,] { { 91.2, 72.4, 80.7 }, { 85.0, 95.1, 89.8 }, { 91.2, 93.0, 92.1 }, { 91.2, 96.4, 93.7 } });
        AssertPicture(path, 640, 440, minColours: 8);
    }

    [Fact]
    public void HeatMap_UpperTriangularGates_WithColourBar()
    {
        var path = Out("heatmap.png");
        int k = 5;
        var gates = new double[k, k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) gates[i, j] = j > i ? (i + 1.0) * (j + 2) / 40 % 1 : double.NaN;
        var names = Enumerable.Range(0, k).Select(i => $"h{i}").ToList();
        Charts.HeatMap(path, "Λ layer2 (mean over test set)", gates, names, names, "from", "to");
        AssertPicture(path, null, null, minColours: 8);
    }

    [Fact]
    public void ConfusionMatrix_CountsAndRates()
    {
        var path = Out("confusion.png");
        var classes = Delta.Data.Datasets.DigitReaders.FashionClasses;
        var counts = new long[10, 10];
        var rng = new Random(0);
        for (int i = 0; i < 10; i++) for (int j = 0; j < 10; j++) counts[i, j] = i == j ? 80 + rng.Next(20) : rng.Next(6);
        Charts.ConfusionMatrix(path, "Fashion-MNIST test", counts, classes);
        AssertPicture(path, null, null, minColours: 10, minInkShare: 0.2);
    }

    [Fact]
    public void Scatter_GroupsWithLegend()
    {
        var path = Out("scatter.png");
        var rng = new Random(1);
        var pts = new List<(string, double, double)>();
        for (int i = 0; i < 300; i++) pts.Add(("MNIST (source)", rng.NextDouble() * 2 - 1, rng.NextDouble()));
        for (int i = 0; i < 300; i++) pts.Add(("optdigits (target)", rng.NextDouble() * 2, rng.NextDouble() + 0.5));
        Charts.Scatter(path, "PCA of features, before adaptation", pts);
        AssertPicture(path, 640, 520, minColours: 8);
    }

    [Fact]
    public void LabelledImage_AndBoxes_OnARealPhoto()
    {
        var photo = Delta.Abstractions.AssetPaths.Require("photos/chelsea.png");
        using var rgb = Delta.Data.Images.ImageCodec.ReadRgb(photo);
        var path = Out("top5.png");
        Charts.LabelledImage(path, rgb, ["tabby cat 0.62", "tiger cat 0.21", "Egyptian cat 0.09", "lynx 0.03", "red fox 0.01"]);
        AssertPicture(path, null, null, minColours: 1000, minInkShare: 0.5);
        var boxes = Out("boxes.png");
        Charts.Boxes(boxes, rgb, [(100f, 40f, 330f, 290f, "cat 0.97", 7), (10f, 10f, 60f, 50f, "bottle 0.40", 4)]);
        AssertPicture(boxes, (int)rgb.shape[2], (int)rgb.shape[1], minColours: 1000, minInkShare: 0.5);
    }
}
