using System.Globalization;
using System.Net;
using System.Text;
using Delta.Service.Jobs;

namespace Delta.Service.Status;

/// <summary>
/// A job's metric curves as an inline SVG, drawn on the server: no JavaScript, no build step, readable in
/// any browser. Each metric gets its own min–max scale (losses and accuracies differ by orders of magnitude);
/// the legend prints the last value and the range.
/// </summary>
public static class SvgChart
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

    /// <summary>History points a chart asks the store for: a few per pixel of its width is all a polyline can show.</summary>
    public const int MaxPoints = 1000;

    /// <summary>Which curves a chart of at most six shows first: the step loss, validation metrics, the step's own losses,
    /// the learning rate, then the epochs' means (alphabetical order put every "epoch_" name ahead of "loss" and "val_").</summary>
    private static int Rank(string name) =>
        name == "loss" ? 0 : name.StartsWith("val_", StringComparison.Ordinal) ? 1 : name == "lr" ? 3 : name.StartsWith("epoch_", StringComparison.Ordinal) ? 4 : 2;

    public static string Render(IReadOnlyList<MetricPoint> points, int width = 420, int height = 150)
    {
        const int pad = 6, legendHeight = 16;
        var names = points.SelectMany(p => p.Metrics.Keys).Distinct().OrderBy(Rank).ThenBy(n => n, StringComparer.Ordinal).Take(Colors.Length).ToList();
        var sb = new StringBuilder();
        var plotHeight = height - legendHeight * Math.Max(1, names.Count) - pad;
        sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\">");
        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"0.5\" y=\"0.5\" width=\"{width - 1}\" height=\"{plotHeight}\" fill=\"#fafafa\" stroke=\"#ccc\"/>");
        if (names.Count == 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"{plotHeight / 2}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#888\">no metrics yet</text></svg>");
            return sb.ToString();
        }
        long minStep = points.Min(p => p.Step), maxStep = Math.Max(points.Max(p => p.Step), minStep + 1);
        for (var k = 0; k < names.Count; k++)
        {
            var series = points.Where(p => p.Metrics.ContainsKey(names[k])).Select(p => (p.Step, V: p.Metrics[names[k]])).ToList();
            double lo = series.Min(s => s.V), hi = series.Max(s => s.V);
            var span = hi - lo > 1e-12 ? hi - lo : 1.0;
            var coords = series.Select(s => string.Create(CultureInfo.InvariantCulture,
                $"{pad + (width - 2 * pad) * (s.Step - minStep) / (double)(maxStep - minStep):F1},{pad + (plotHeight - 2 * pad) * (1 - (s.V - lo) / span):F1}"));
            sb.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{Colors[k]}\" stroke-width=\"1.5\" points=\"{string.Join(' ', coords)}\"/>");
            var y = plotHeight + pad + legendHeight * k + 10;
            sb.Append(CultureInfo.InvariantCulture,
                $"<text x=\"{pad}\" y=\"{y}\" font-size=\"11\" fill=\"{Colors[k]}\">{WebUtility.HtmlEncode(names[k])}: {series[^1].V:G4} (min {lo:G4}, max {hi:G4}, steps {minStep}–{maxStep})</text>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }
}
