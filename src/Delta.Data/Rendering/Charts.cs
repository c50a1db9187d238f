using Delta.Data.Images;
using OpenCvSharp;

namespace Delta.Data.Rendering;

/// <summary>PNG charts drawn with OpenCvSharp: training curves, grouped bars, gate heat-maps, confusion matrices, scatter plots.</summary>
public static class Charts
{
    /// <summary>Named series over x = 1..n (e.g. loss per epoch), shared y axis, legend.</summary>
    public static void Lines(string path, string title, string yLabel, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series, string xLabel = "epoch")
    {
        var all = series.SelectMany(s => s.Values).Where(double.IsFinite).ToList();
        if (all.Count == 0) throw new ArgumentException("Nothing to plot: every series is empty or non-finite.");
        double min = Math.Min(0, all.Min()), max = all.Max();
        var n = series.Max(s => s.Values.Count);
        using var c = new Canvas(720, 420);
        c.Title(title);
        (min, max) = c.YAxis(min, max, yLabel);
        int X(int i) => c.Plot.Left + (n <= 1 ? c.Plot.Width / 2 : (int)Math.Round((double)i / (n - 1) * c.Plot.Width));
        for (int i = 0; i < n; i += Math.Max(1, n / 10)) c.Text((i + 1).ToString(), X(i) - 4, c.Plot.Bottom + 18, 0.4);
        c.Text(xLabel, c.Plot.Left + c.Plot.Width / 2, c.Plot.Bottom + 40, 0.45, center: true);
        for (int s = 0; s < series.Count; s++)
        {
            var pts = series[s].Values.Select((v, i) => new Point(X(i), c.Y(v, min, max))).ToArray();
            for (int i = 1; i < pts.Length; i++) Cv2.Line(c.Image, pts[i - 1], pts[i], Palette.Of(s), 2, LineTypes.AntiAlias);
            foreach (var p in pts) Cv2.Circle(c.Image, p, 3, Palette.Of(s), -1, LineTypes.AntiAlias);
        }
        c.Legend(series.Select(x => x.Name).ToList());
        ImageCodec.WritePng(path, c.Image);
    }

    /// <summary>Groups (e.g. methods) × bars (e.g. metrics), values labelled on the bars.</summary>
    public static void GroupedBars(string path, string title, string yLabel, IReadOnlyList<string> groups, IReadOnlyList<string> bars, double[,] values)
    {
        double max = 0;
        foreach (var v in values) if (double.IsFinite(v)) max = Math.Max(max, v);
        max = max <= 0 ? 1 : max * 1.08;                                    // room for the value labels
        using var c = new Canvas(Math.Max(640, 110 * groups.Count + 140), 440, bottom: 80);
        c.Title(title);
        (_, max) = c.YAxis(0, max, yLabel);
        var groupWidth = (double)c.Plot.Width / groups.Count;
        var barWidth = groupWidth * 0.8 / bars.Count;
        for (int g = 0; g < groups.Count; g++)
        {
            for (int b = 0; b < bars.Count; b++)
            {
                var v = values[g, b];
                if (!double.IsFinite(v)) continue;
                var x0 = (int)(c.Plot.Left + g * groupWidth + groupWidth * 0.1 + b * barWidth);
                var y = c.Y(v, 0, max);
                Cv2.Rectangle(c.Image, new Rect(x0, y, Math.Max(1, (int)barWidth - 2), c.Plot.Bottom - y), Palette.Of(b), -1);
                c.Text(Canvas.Format(v), x0, y - 4, 0.33);
            }
            c.Text(groups[g], (int)(c.Plot.Left + g * groupWidth + groupWidth / 2), c.Plot.Bottom + 18, 0.42, center: true);
        }
        for (int b = 0; b < bars.Count; b++)
        {
            Cv2.Rectangle(c.Image, new Rect(c.Plot.Left + 150 * b, c.Plot.Bottom + 38, 12, 12), Palette.Of(b), -1);
            c.Text(bars[b], c.Plot.Left + 150 * b + 18, c.Plot.Bottom + 49, 0.42);
        }
        ImageCodec.WritePng(path, c.Image);
    }

    /// <summary>A matrix of values in [0, 1] (NaN = no cell, drawn grey), with row/column labels and the value in each cell.</summary>
    public static void HeatMap(string path, string title, double[,] values, IReadOnlyList<string> rows, IReadOnlyList<string> columns, string rowTitle = "", string columnTitle = "")
    {
        int r = values.GetLength(0), k = values.GetLength(1);
        var cell = Math.Clamp(480 / Math.Max(r, k), 24, 80);
        using var c = new Canvas(140 + k * cell + 80, 90 + r * cell + 40, left: 120, top: 70, right: 80, bottom: 40);
        c.Title(title);
        for (int i = 0; i < r; i++)
        {
            c.Text(rows[i], 10, c.Plot.Top + i * cell + cell / 2 + 5, 0.42);
            for (int j = 0; j < k; j++)
            {
                var rect = new Rect(c.Plot.Left + j * cell, c.Plot.Top + i * cell, cell - 1, cell - 1);
                var v = values[i, j];
                Cv2.Rectangle(c.Image, rect, double.IsNaN(v) ? new Scalar(235, 235, 235) : Palette.Sequential(v), -1);
                if (!double.IsNaN(v) && cell >= 30)
                    c.Text(v.ToString(cell >= 48 ? "F2" : "F1"), rect.X + cell / 2, rect.Y + cell / 2 + 4, 0.36, v > 0.55 ? Palette.Background : Palette.Text, center: true);
            }
        }
        for (int j = 0; j < k; j++) c.Text(columns[j], c.Plot.Left + j * cell + cell / 2, c.Plot.Top - 8, 0.42, center: true);
        if (rowTitle.Length > 0) c.Text(rowTitle, 10, c.Plot.Top - 8, 0.42);
        if (columnTitle.Length > 0) c.Text(columnTitle, c.Plot.Left + k * cell / 2, c.Plot.Top - 26, 0.42, center: true);
        for (int s = 0; s <= 10; s++)                                                     // colour bar
        {
            var y = c.Plot.Top + (10 - s) * Math.Max(1, r * cell / 11);
            Cv2.Rectangle(c.Image, new Rect(c.Plot.Left + k * cell + 20, y, 16, Math.Max(1, r * cell / 11)), Palette.Sequential(s / 10.0), -1);
            if (s % 5 == 0) c.Text((s / 10.0).ToString("F1"), c.Plot.Left + k * cell + 40, y + 10, 0.38);
        }
        ImageCodec.WritePng(path, c.Image);
    }

    /// <summary>Counts per (true, predicted) class; colour is the row-normalised rate, the number is the count.</summary>
    public static void ConfusionMatrix(string path, string title, long[,] counts, IReadOnlyList<string> classes)
    {
        int n = classes.Count;
        var rates = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            double row = 0;
            for (int j = 0; j < n; j++) row += counts[i, j];
            for (int j = 0; j < n; j++) rates[i, j] = row == 0 ? 0 : counts[i, j] / row;
        }
        var cell = Math.Clamp(520 / n, 18, 60);
        using var c = new Canvas(150 + n * cell + 30, 110 + n * cell + 30, left: 140, top: 90, right: 30, bottom: 30);
        c.Title(title);
        c.Text("true \\ predicted", 8, c.Plot.Top - 10, 0.42);
        for (int i = 0; i < n; i++)
        {
            c.Text(Short(classes[i]), 8, c.Plot.Top + i * cell + cell / 2 + 5, 0.4);
            c.Text(Short(classes[i], 4), c.Plot.Left + i * cell + 2, c.Plot.Top - 10, 0.36);
            for (int j = 0; j < n; j++)
            {
                var rect = new Rect(c.Plot.Left + j * cell, c.Plot.Top + i * cell, cell - 1, cell - 1);
                Cv2.Rectangle(c.Image, rect, Palette.Sequential(rates[i, j]), -1);
                if (cell >= 26) c.Text(counts[i, j].ToString(), rect.X + cell / 2, rect.Y + cell / 2 + 4, 0.33, rates[i, j] > 0.55 ? Palette.Background : Palette.Text, center: true);
            }
        }
        ImageCodec.WritePng(path, c.Image);
    }

    /// <summary>Points coloured by group (e.g. source/target features after PCA) with a legend.</summary>
    public static void Scatter(string path, string title, IReadOnlyList<(string Group, double X, double Y)> points, string xLabel = "PC1", string yLabel = "PC2")
    {
        if (points.Count == 0) throw new ArgumentException("Nothing to plot.");
        double x0 = points.Min(p => p.X), x1 = points.Max(p => p.X), y0 = points.Min(p => p.Y), y1 = points.Max(p => p.Y);
        var groups = points.Select(p => p.Group).Distinct().ToList();
        using var c = new Canvas(640, 520);
        c.Title(title);
        (y0, y1) = c.YAxis(y0, y1, yLabel);
        (x0, x1) = c.XAxis(x0, x1, xLabel);
        foreach (var p in points)
            Cv2.Circle(c.Image, new Point(c.X(p.X, x0, x1), c.Y(p.Y, y0, y1)), 3, Palette.Of(groups.IndexOf(p.Group)), -1, LineTypes.AntiAlias);
        c.Legend(groups);
        ImageCodec.WritePng(path, c.Image);
    }

    /// <summary>An image (RGB [3, H, W] in [0, 1]) enlarged to at least 256 px with text lines in a band beneath it.</summary>
    public static void LabelledImage(string path, TorchSharp.torch.Tensor rgb, IReadOnlyList<string> lines)
    {
        using var mat = ImageCodec.RgbTensorToMat(rgb);
        var scale = Math.Max(1.0, 256.0 / Math.Max(mat.Width, mat.Height));
        using var big = new Mat();
        Cv2.Resize(mat, big, new Size((int)(mat.Width * scale), (int)(mat.Height * scale)), interpolation: scale > 1 ? InterpolationFlags.Nearest : InterpolationFlags.Area);
        var width = Math.Max(big.Width, 320);
        using var canvas = new Mat(big.Height + 22 * lines.Count + 12, width, MatType.CV_8UC3, Palette.Background);
        big.CopyTo(new Mat(canvas, new Rect(0, 0, big.Width, big.Height)));
        for (int i = 0; i < lines.Count; i++)
            Cv2.PutText(canvas, Canvas.Ascii(lines[i]), new Point(6, big.Height + 20 + 22 * i), Canvas.Font, 0.5, i == 0 ? new Scalar(0, 110, 0) : Palette.Text, 1, LineTypes.AntiAlias);
        ImageCodec.WritePng(path, canvas);
    }

    /// <summary>An image (RGB [3, H, W] in [0, 1]) at its own size with boxes (pixel xyxy) and their labels drawn on it;
    /// <c>ColourIndex</c> (e.g. the class id) picks the box colour.</summary>
    public static void Boxes(string path, TorchSharp.torch.Tensor rgb, IReadOnlyList<(float X1, float Y1, float X2, float Y2, string Label, int ColourIndex)> boxes)
    {
        using var canvas = ImageCodec.RgbTensorToMat(rgb);
        var thickness = Math.Max(2, Math.Min(canvas.Width, canvas.Height) / 200);
        foreach (var b in boxes)
        {
            var colour = Palette.Of(b.ColourIndex);
            var rect = new Rect((int)MathF.Round(b.X1), (int)MathF.Round(b.Y1), (int)MathF.Round(b.X2 - b.X1), (int)MathF.Round(b.Y2 - b.Y1));
            Cv2.Rectangle(canvas, rect, colour, thickness, LineTypes.AntiAlias);
            if (b.Label.Length == 0) continue;
            var label = Canvas.Ascii(b.Label);
            var size = Cv2.GetTextSize(label, Canvas.Font, 0.5, 1, out var baseline);
            var top = rect.Y - size.Height - baseline - 4 >= 0 ? rect.Y - size.Height - baseline - 4 : rect.Y;   // above the box, or inside it at the image edge
            Cv2.Rectangle(canvas, new Rect(rect.X, top, size.Width + 6, size.Height + baseline + 4), colour, -1);
            Cv2.PutText(canvas, label, new Point(rect.X + 3, top + size.Height + 2), Canvas.Font, 0.5, Palette.Background, 1, LineTypes.AntiAlias);
        }
        ImageCodec.WritePng(path, canvas);
    }

    private static string Short(string s, int max = 14) => s.Length <= max ? s : s[..max];
}
