using System.Globalization;
using System.Text;

namespace Delta.Plugins.Classification.Transfer;

/// <summary>
/// The transfer results laid out like the paper's Table 5: one row per method, one top-1 column per training-data
/// fraction (plus their mean), and the columns the paper leaves implicit: what trains, trainable parameters, and
/// whether the base is provably intact. Markdown for people, CSV (one line per run) for tools.
/// </summary>
public static class TransferTable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Markdown(string task, IReadOnlyList<TransferRun> runs)
    {
        var fractions = runs.Select(r => r.Fraction).Distinct().Order().ToList();
        var sb = new StringBuilder();
        sb.AppendLine($"Top-1 (%) on the {task} test split, by share of the training pool used ({string.Join(", ", fractions.Select(f => $"{Percent(f)} = {runs.First(r => r.Fraction == f).TrainImages} images"))}).");
        sb.AppendLine();
        sb.AppendLine("| Method | " + string.Join(" | ", fractions.Select(Percent)) + " | Mean | What trains | Trainable params | Base intact after training |");
        sb.AppendLine("|---|" + string.Concat(fractions.Select(_ => "---:|")) + "---:|---|---:|---|");
        foreach (var group in runs.GroupBy(r => r.Method.Id))
        {
            var rows = group.ToList();
            var cells = fractions.Select(f => rows.FirstOrDefault(r => r.Fraction == f) is { } r ? Pct(r.Top1) : "-");
            var mean = rows.Count == fractions.Count ? Pct(rows.Average(r => r.Top1)) : "-";
            var intact = rows.All(r => r.BaseIntact is null) ? "no guarantee (fine-tunes the base)"
                : rows.All(r => r.BaseIntact == true) ? "yes (weights SHA-256 equal; Δ dropped ⇒ features bit-identical)" : "NO";
            sb.AppendLine($"| {rows[0].Method.Name} | {string.Join(" | ", cells)} | {mean} | {rows[0].Method.WhatTrains} | {rows.Max(r => r.TrainableParameters):N0} | {intact} |");
        }
        return sb.ToString();
    }

    public static void WriteCsv(string path, IReadOnlyList<TransferRun> runs)
    {
        var lossNames = runs.SelectMany(r => r.FinalLosses.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", new[] { "method", "what_trains", "fraction", "train_images", "top1", "trainable_parameters", "steps", "seconds", "base_intact" }
            .Concat(lossNames.Select(n => "final_epoch_" + n))));
        foreach (var r in runs)
            sb.AppendLine(string.Join(",", new[]
            {
                Quote(r.Method.Name), Quote(r.Method.WhatTrains), r.Fraction.ToString("R", Inv), r.TrainImages.ToString(Inv), r.Top1.ToString("R", Inv),
                r.TrainableParameters.ToString(Inv), r.Steps.ToString(Inv), r.Seconds.ToString("F1", Inv), r.BaseIntact switch { true => "true", false => "false", null => "" },
            }.Concat(lossNames.Select(n => r.FinalLosses.TryGetValue(n, out var v) ? v.ToString("R", Inv) : ""))));
        File.WriteAllText(path, sb.ToString());
    }

    public static string Percent(double fraction) => (100 * fraction).ToString("0.#", Inv) + " %";
    private static string Pct(double v) => (100 * v).ToString("F2", Inv);
    private static string Quote(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
