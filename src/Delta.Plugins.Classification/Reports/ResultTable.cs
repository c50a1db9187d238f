using System.Globalization;
using System.Text;
using Delta.Data.Rendering;
using Delta.Plugins.Classification.Experiments;

namespace Delta.Plugins.Classification.Reports;

/// <summary>Table-2-style reports of <see cref="MethodResult"/>s: console text, markdown, CSV and a PNG bar chart.</summary>
public static class ResultTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static readonly string[] Header = ["method", "backbone", "task", "base top-1 before", "base top-1 after", "base logits identical", "patched top-1", "harmonic mean", "trainable params", "patch size", "seconds"];

    public static IReadOnlyList<string> Cells(MethodResult r) =>
    [
        r.Method, r.Backbone, r.Task, Pct(r.BaseBefore), Pct(r.BaseAfter), r.BaseLogitsIdentical switch { true => "yes", false => "no", null => "-" },
        Pct(r.Patched), Pct(r.HarmonicMean), Millions(r.TrainableParameters), $"{r.PatchBytes / 1e6:F2} MB ({r.PatchKind})", r.Seconds.ToString("F0", Inv),
    ];

    public static string Pct(double v) => double.IsNaN(v) ? "-" : (100 * v).ToString("F2", Inv);
    public static string Millions(long v) => (v / 1e6).ToString("F3", Inv) + "M";

    public static string Text(IReadOnlyList<MethodResult> rows)
    {
        var cells = rows.Select(Cells).ToList();
        var widths = Header.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join("  ", Header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var c in cells) sb.AppendLine(string.Join("  ", c.Select((x, i) => x.PadRight(widths[i]))).TrimEnd());
        return sb.ToString();
    }

    public static string Markdown(IReadOnlyList<MethodResult> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", Header) + " |");
        sb.AppendLine("|" + string.Concat(Header.Select(_ => "---|")));
        foreach (var r in rows) sb.AppendLine("| " + string.Join(" | ", Cells(r)) + " |");
        foreach (var r in rows.Where(r => r.Note is not null)) sb.AppendLine($"\n{r.Method}: {r.Note}.");
        return sb.ToString();
    }

    public static void WriteCsv(string path, IReadOnlyList<MethodResult> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("method,backbone,task,base_before,base_after,base_logits_identical,patched,harmonic_mean,trainable_parameters,patch_bytes,patch_kind,seconds");
        foreach (var r in rows)
            sb.AppendLine(string.Join(",", Quote(r.Method), r.Backbone, Quote(r.Task), r.BaseBefore.ToString("R", Inv), r.BaseAfter.ToString("R", Inv),
                r.BaseLogitsIdentical?.ToString() ?? "", r.Patched.ToString("R", Inv), r.HarmonicMean.ToString("R", Inv), r.TrainableParameters, r.PatchBytes, r.PatchKind, r.Seconds.ToString("F1", Inv)));
        File.WriteAllText(path, sb.ToString());
    }

    public static void WriteBarChart(string path, string title, IReadOnlyList<MethodResult> rows)
    {
        var values = new double[rows.Count, 3];
        for (int i = 0; i < rows.Count; i++) { values[i, 0] = 100 * rows[i].BaseAfter; values[i, 1] = 100 * rows[i].Patched; values[i, 2] = 100 * rows[i].HarmonicMean; }
        Charts.GroupedBars(path, title, "top-1 %", rows.Select(r => r.Method).ToList(), ["base task", "patched task", "harmonic mean"], values);
    }

    private static string Quote(string s) => s.Contains(',') ? $"\"{s}\"" : s;
}
