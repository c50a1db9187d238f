using System.Globalization;
using System.Net;
using System.Text;
using Delta.Service.Jobs;
using Delta.Service.Store;

namespace Delta.Service.Status;

/// <summary>The page at "/": every job with state, progress, error, and its metric curves. Reloads itself every 5 s.</summary>
public static class StatusPage
{
    public static async Task<string> RenderAsync(IJobStore store, CancellationToken ct)
    {
        var jobs = await store.ListAsync(50, ct);
        var sb = new StringBuilder();
        sb.Append("""
            <!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
            <title>Delta jobs</title><style>
            body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;vertical-align:top}
            .queued{color:#666}.running{color:#1f77b4}.succeeded{color:#2ca02c}.failed{color:#d62728}.cancelled{color:#8c564b}
            </style></head><body><h1>Delta jobs</h1>
            """);
        if (jobs.Count == 0) sb.Append("<p>No jobs yet. Submit one with <code>delta jobs submit job.json</code>.</p>");
        else
        {
            sb.Append("<table><tr><th>job</th><th>state</th><th>progress</th><th>curves</th></tr>");
            foreach (var j in jobs)
            {
                var history = await store.GetMetricHistoryAsync(j.Id, SvgChart.MaxPoints, ct);
                var state = j.State.ToDb();
                sb.Append(CultureInfo.InvariantCulture, $"<tr id=\"job-{j.Id}\"><td><b>{E(j.Name)}</b><br><small>{j.Id}<br>{E(j.Device)} · attempt {j.Attempts}</small></td>");
                sb.Append(CultureInfo.InvariantCulture, $"<td class=\"{state}\">{state}{(j.Error is { } err ? "<br><small>" + E(err) + "</small>" : "")}</td><td>{Progress(j)}</td>");
                sb.Append("<td>").Append(SvgChart.Render(history)).Append("</td></tr>");
            }
            sb.Append("</table>");
        }
        sb.Append("</body></html>");
        return sb.ToString();
    }

    private static string Progress(JobRecord j)
    {
        if (j.Progress is not { } p) return j.State.IsTerminal() ? Metrics(j.Metrics) : "–";
        var pct = p.TotalSteps > 0 ? $" ({100.0 * p.Step / p.TotalSteps:F0}%)" : "";
        var eta = p.EtaSeconds is { } s && !j.State.IsTerminal() ? $"<br>ETA {TimeSpan.FromSeconds(Math.Round(s))}" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"epoch {p.Epoch}/{p.Epochs}<br>step {p.Step}/{p.TotalSteps}{pct}<br>{p.StepsPerSecond:F2} steps/s{eta}<br>{Metrics(j.State.IsTerminal() && j.Metrics.Count > 0 ? j.Metrics : p.Metrics)}");
    }

    private static string Metrics(IReadOnlyDictionary<string, double> m) =>
        string.Join("<br>", m.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{E(kv.Key)} = {kv.Value:G5}")));

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
