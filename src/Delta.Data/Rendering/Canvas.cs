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
        var size = Cv2.GetTextSize(text, Font, scale, thickness, out _);
        Cv2.PutText(Image, text, new Point(center ? x - size.Width / 2 : x, y), Font, scale, color ?? Palette.Text, thickness, LineTypes.AntiAlias);
    }

    public void Title(string title) => Text(title, Image.Width / 2, 24, 0.6, center: true, thickness: 1);

    /// <summary>Y axis with 5 ticks over [min, max], grid lines, and the axis frame.</summary>
    public void YAxis(double min, double max, string label)
    {
        for (int i = 0; i <= 4; i++)
        {
            var v = min + (max - min) * i / 4;
            var y = Y(v, min, max);
            Cv2.Line(Image, new Point(Plot.Left, y), new Point(Plot.Right, y), Palette.Grid, 1);
            Text(Format(v), 8, y + 4, 0.4);
        }
        Cv2.Rectangle(Image, Plot, Palette.Axis, 1);
        Text(label, 8, Plot.Top - 8, 0.42);
    }

    public int Y(double v, double min, double max) =>
        Plot.Bottom - (int)Math.Round((v - min) / (max - min == 0 ? 1 : max - min) * Plot.Height);

    public static string Format(double v) => Math.Abs(v) >= 100 ? v.ToString("F0") : Math.Abs(v) >= 1 ? v.ToString("F2") : v.ToString("F3");

    public void Dispose() => Image.Dispose();
}
