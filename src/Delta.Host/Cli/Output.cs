using System.Text.Json;
using System.Text.Json.Serialization;
using Delta.Backbones.Patches;

namespace Delta.Host.Cli;

/// <summary>Results go to stdout: aligned text for people, JSON (--json) for scripts. Logs and progress use stderr.</summary>
public static class Output
{
    public static readonly JsonSerializerOptions Json = new(PatchJson.Options)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void WriteJson(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, value.GetType(), Json));

    public static void WriteTable(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => r[i].Length))).ToArray();
        string Line(IReadOnlyList<string> cells) => string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
        Console.Out.WriteLine(Line(header));
        Console.Out.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var r in all) Console.Out.WriteLine(Line(r));
    }

    public static void WriteMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        foreach (var (k, v) in metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Console.Out.WriteLine($"{k,-28} {v:G6}");
    }
}
