using OpenCvSharp;

namespace Delta.Data.Rendering;

/// <summary>A white image with a plotting area and helpers for text, axes and ticks. Dispose after saving.</summary>
internal sealed class Canvas : IDisposable
{
    public Mat Image { get; }
    public Rect Plot { get; }
    public const HersheyFonts Font = HersheyFonts.HersheySimplex;

    public Canvas(int width, int height, int left = 70, int top = 40, int right = 20, int bottom = 60)
    {
        Image = new Mat(height, width, MatType.CV_8UC3, Palette.Background);
        Plot = new Rect(left, top, width - left - right, height - top - bottom);
    }

    public void Text(string text, int x, int y, double scale = 0.45, Scalar? color = null, bool center = false, int thickness = 1)
    {
        if (string.IsNullOrEmpty(text)) return;                   // OpenCV refuses to measure an empty string
        text = Ascii(text);
        var size = Cv2.GetTextSize(text, Font, scale, thickness, out _);
        Cv2.PutText(Image, text, new Point(center ? x - size.Width / 2 : x, y), Font, scale, color ?? Palette.Text, thickness, LineTypes.AntiAlias);
    }

    /// <summary>OpenCV's Hershey fonts draw only ASCII; Greek letters the paper uses are spelled out, anything else becomes '?'.</summary>
    public static string Ascii(string text)
    {
        if (text.All(ch => ch < 128)) return text;
        var sb = new System.Text.StringBuilder();
        foreach (var ch in text)
            sb.Append(ch switch
            {
                'Δ' => "Delta", 'Λ' => "Lambda", 'λ' => "lambda", 'α' => "alpha", 'φ' => "phi", 'θ' => "theta", 'σ' => "sigma", 'μ' => "mu",
                '×' => "x", '±' => "+/-", '→' => "->", '–' or '—' or '−' => "-", '≤' => "<=", '≥' => ">=", 'é' => "e",
                < (char)128 => ch.ToString(),
                _ => "?",
            });
        return sb.ToString();
    }

    /// <summary>The title, centred over the span right of the y-axis label's corner, shrunk to fit that span (down to
    /// a readable minimum) and shortened with "..." beyond it: a long title is never cut by the image edge nor drawn
    /// over the axis label.</summary>
    public void Title(string title)
    {
        const double largest = 0.6, smallest = 0.4;
        int left = Plot.Left, right = Image.Width - 10, room = right - left;
        var text = Ascii(title);
        var scale = largest;
        while (scale > smallest && Cv2.GetTextSize(text, Font, scale, 1, out _).Width > room) scale -= 0.05;
        while (text.Length > 4 && Cv2.GetTextSize(text, Font, scale, 1, out _).Width > room) text = text[..^4] + "...";
        Text(text, left + room / 2, 24, scale, center: true, thickness: 1);
    }

    /// <summary>Y axis over a "nice" range covering [min, max] (ticks at 1, 2 or 5 × 10^k), grid lines and the frame.
    /// Returns the range actually drawn; plot values against it.</summary>
    public (double Min, double Max) YAxis(double min, double max, string label)
    {
        var (lo, hi, step) = NiceRange(min, max);
        for (var v = lo; v <= hi + step / 2; v += step)
        {
            var y = Y(v, lo, hi);
            Cv2.Line(Image, new Point(Plot.Left, y), new Point(Plot.Right, y), Palette.Grid, 1);
            var text = Tick(v, step);
            var width = Cv2.GetTextSize(text, Font, 0.4, 1, out _).Width;
            Text(text, Plot.Left - 6 - width, y + 4, 0.4);
        }
        Cv2.Rectangle(Image, Plot, Palette.Axis, 1);
        Text(label, 8, Plot.Top - 12, 0.42);
        return (lo, hi);
    }

    /// <summary>X axis ticks over a nice range covering [min, max]; returns the range drawn.</summary>
    public (double Min, double Max) XAxis(double min, double max, string label)
    {
        var (lo, hi, step) = NiceRange(min, max);
        for (var v = lo; v <= hi + step / 2; v += step)
        {
            var x = X(v, lo, hi);
            Cv2.Line(Image, new Point(x, Plot.Top), new Point(x, Plot.Bottom), Palette.Grid, 1);
            Text(Tick(v, step), x, Plot.Bottom + 18, 0.4, center: true);
        }
        Cv2.Rectangle(Image, Plot, Palette.Axis, 1);
        Text(label, Plot.Left + Plot.Width / 2, Plot.Bottom + 40, 0.45, center: true);
        return (lo, hi);
    }

    /// <summary>A framed legend in the top-right corner of the plot: a colour swatch and a name per entry.</summary>
    public void Legend(IReadOnlyList<string> names)
    {
        if (names.Count == 0) return;
        var width = names.Max(n => Cv2.GetTextSize(Ascii(n), Font, 0.42, 1, out _).Width) + 34;
        var box = new Rect(Plot.Right - width - 8, Plot.Top + 8, width, 18 * names.Count + 8);
        Cv2.Rectangle(Image, box, Palette.Background, -1);
        Cv2.Rectangle(Image, box, Palette.Grid, 1);
        for (int i = 0; i < names.Count; i++)
        {
            Cv2.Rectangle(Image, new Rect(box.X + 8, box.Y + 6 + 18 * i, 12, 12), Palette.Of(i), -1);
            Text(names[i], box.X + 26, box.Y + 17 + 18 * i, 0.42);
        }
    }

    public int X(double v, double min, double max) =>
        Plot.Left + (int)Math.Round((v - min) / (max - min == 0 ? 1 : max - min) * Plot.Width);

    /// <summary>About six ticks: step = 1, 2 or 5 × 10^k; the range is widened to whole steps.</summary>
    public static (double Min, double Max, double Step) NiceRange(double min, double max)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max)) (min, max) = (0, 1);
        if (max - min < 1e-12) { min -= 0.5; max += 0.5; }
        var raw = (max - min) / 6;
        var mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var step = raw / mag <= 1 ? mag : raw / mag <= 2 ? 2 * mag : raw / mag <= 5 ? 5 * mag : 10 * mag;
        return (Math.Floor(min / step + 1e-9) * step, Math.Ceiling(max / step - 1e-9) * step, step);
    }

    private static string Tick(double v, double step)
    {
        var decimals = Math.Max(0, (int)Math.Ceiling(-Math.Log10(step) - 1e-9));
        return (Math.Abs(v) < step * 1e-6 ? 0 : v).ToString("F" + Math.Min(decimals, 6), System.Globalization.CultureInfo.InvariantCulture);
    }

    public int Y(double v, double min, double max) =>
        Plot.Bottom - (int)Math.Round((v - min) / (max - min == 0 ? 1 : max - min) * Plot.Height);

    public static string Format(double v) => Math.Abs(v) >= 100 ? v.ToString("F0") : Math.Abs(v) >= 1 ? v.ToString("F2") : v.ToString("F3");

    public void Dispose() => Image.Dispose();
}
