using System.Globalization;

namespace Delta.Plugins.DomainAdapt.Commands;

/// <summary>"--key=value" (or "--key value") arguments of the plugin's verbs; unknown keys and bad values are errors (exit code 2).
/// Prefer --key=value: the host's pass-through may reorder separate value tokens after the option names.</summary>
public sealed class CommandArgs
{
    private readonly Dictionary<string, string> values = new(StringComparer.OrdinalIgnoreCase);

    public CommandArgs(IReadOnlyList<string> args, IReadOnlyCollection<string> known)
    {
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{a}'.");
            var key = a[2..];
            string? inline = null;
            if (key.IndexOf('=') is var eq and > 0) { inline = key[(eq + 1)..]; key = key[..eq]; }
            if (!known.Contains(key)) throw new ArgumentException($"Unknown option '--{key}'. Valid: {string.Join(", ", known.Select(k => "--" + k))}.");
            if (inline is not null) { values[key] = inline; continue; }
            if (i + 1 >= args.Count) throw new ArgumentException($"--{key} needs a value.");
            values[key] = args[++i];
        }
    }

    public string String(string key, string fallback) => values.TryGetValue(key, out var v) ? v : fallback;

    public int Int(string key, int fallback, int min, int max)
    {
        if (!values.TryGetValue(key, out var v)) return fallback;
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) || x < min || x > max)
            throw new ArgumentException($"--{key} must be an integer in {min}..{max} (got '{v}').");
        return x;
    }

    public double Double(string key, double fallback, double min, double max)
    {
        if (!values.TryGetValue(key, out var v)) return fallback;
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !(x >= min && x <= max))
            throw new ArgumentException($"--{key} must be a number in [{min}, {max}] (got '{v}').");
        return x;
    }
}
