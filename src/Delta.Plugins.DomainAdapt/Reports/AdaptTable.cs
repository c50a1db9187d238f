using System.Globalization;
using System.Text;
using Delta.Plugins.DomainAdapt.Experiments;

namespace Delta.Plugins.DomainAdapt.Reports;

/// <summary>
/// The paper's Table 6 layout: one row per method (each without and with Δ(n)), one column per pair,
/// cells = target top-1 mean ± std over seeds (sample std, n−1). Extra columns make the Δ guarantee visible:
/// the source task's accuracy before and after adaptation, and whether it is equal in every seed.
/// optdigits is named as such: it stands in for USPS and is not USPS.
/// </summary>
public static class AdaptTable
{
    /// <summary>Row order: the paper's Table 6 rows, then any other (method, Δ) present in the results.</summary>
    public static IReadOnlyList<(string Method, bool Delta)> Rows(IReadOnlyList<RowResult> results) =>
        AdaptExperiment.Table6Rows.Concat(results.Select(r => (r.Method, r.Delta))).Distinct().ToList();

    public static string RowName(string method, bool delta, int deltaStages) => delta ? $"{method} + Δ({deltaStages})" : method;

    public static (double Mean, double Std, int N) MeanStd(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length == 0) return (double.NaN, double.NaN, 0);
        var mean = v.Average();
        var std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return (mean, std, v.Length);
    }

    public static string Markdown(IReadOnlyList<RowResult> results, IReadOnlyList<AdaptPair> pairs, int deltaStages, string footer)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"| Method | {string.Join(" | ", pairs.Select(p => $"{p} target top-1 (%)"))} | source top-1 before → after (%) | source unchanged in every seed | target-side trainable params |");
        sb.AppendLine($"|---|{string.Concat(pairs.Select(_ => "---|"))}---|---|---|");
        foreach (var (method, delta) in Rows(results))
        {
            var mine = results.Where(r => r.Method == method && r.Delta == delta).ToList();
            if (mine.Count == 0) continue;
            var cells = pairs.Select(p => Cell(mine.Where(r => r.Pair == p).Select(r => r.TargetAccuracy)));
            var withSource = mine.Where(r => !double.IsNaN(r.SourceAccuracyBefore)).ToList();
            var source = withSource.Count == 0 ? "–"
                : $"{Cell(withSource.Select(r => r.SourceAccuracyBefore))} → {Cell(withSource.Select(r => r.SourceAccuracyAfter))}";
            var unchanged = withSource.Count == 0 ? "–" : withSource.All(r => r.SourceAccuracyBefore == r.SourceAccuracyAfter) ? "yes (exact)" : "NO";
            var trainable = mine.Max(r => r.TargetTrainableParameters);
            sb.AppendLine($"| {RowName(method, delta, deltaStages)} | {string.Join(" | ", cells)} | {source} | {unchanged} | {(trainable > 0 ? trainable.ToString("N0", CultureInfo.InvariantCulture) : "–")} |");
        }
        sb.AppendLine();
        sb.AppendLine(footer);
        return sb.ToString();
    }

    /// <summary>Per-seed rows, one line per (method, Δ, pair, seed).</summary>
    public static string Csv(IReadOnlyList<RowResult> results, int deltaStages)
    {
        var sb = new StringBuilder("method,delta_stages,source,target,seed,target_top1,source_top1_before,source_top1_after,target_trainable_params\n");
        foreach (var r in results)
            sb.AppendLine(string.Join(",", Quote(r.Method), r.Delta ? deltaStages : 0, r.Pair.Source, r.Pair.Target, r.Seed,
                F(r.TargetAccuracy), F(r.SourceAccuracyBefore), F(r.SourceAccuracyAfter), r.TargetTrainableParameters));
        return sb.ToString();
    }

    private static string Cell(IEnumerable<double> accuracies)
    {
        var (mean, std, n) = MeanStd(accuracies);
        return n == 0 ? "–" : string.Create(CultureInfo.InvariantCulture, $"{100 * mean:F1} ± {100 * std:F1}");
    }

    private static string F(double v) => double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);
    private static string Quote(string s) => s.Contains(',') ? $"\"{s}\"" : s;
}
