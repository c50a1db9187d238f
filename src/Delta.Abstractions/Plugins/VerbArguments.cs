using System.Globalization;

namespace Delta.Abstractions.Plugins;

/// <summary>
/// The arguments of a plugin's own verb (<see cref="PluginCommand"/>): <c>--key value</c>, <c>--key=value</c> and
/// bare <c>--flag</c>s. Unknown keys, missing values and out-of-range numbers throw <see cref="ArgumentException"/>
/// with a message fit for the user (the verbs map it to exit code 2).
/// </summary>
public sealed class VerbArguments
{
    private readonly Dictionary<string, string?> values = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="args">The tokens after the verb.</param>
    /// <param name="known">Keys that take a value.</param>
    /// <param name="flags">Keys that take none.</param>
    public VerbArguments(IReadOnlyList<string> args, IReadOnlyCollection<string> known, IReadOnlyCollection<string>? flags = null)
    {
        flags ??= [];
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{a}'.");
            var key = a[2..];
            string? inline = null;
            if (key.IndexOf('=') is var eq and > 0) { inline = key[(eq + 1)..]; key = key[..eq]; }
            if (flags.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                if (inline is not null) throw new ArgumentException($"--{key} is a flag and takes no value.");
                values[key] = null;
                continue;
            }
            if (!known.Contains(key, StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException($"Unknown option '--{key}'. Valid: {string.Join(", ", known.Concat(flags).Select(k => "--" + k))}.");
            if (inline is not null) { values[key] = inline; continue; }
            if (i + 1 >= args.Count) throw new ArgumentException($"--{key} needs a value.");
            values[key] = args[++i];
        }
    }

    /// <summary>Whether the key (flag or valued option) was given.</summary>
    public bool Has(string key) => values.ContainsKey(key);

    public string String(string key, string fallback) => values.TryGetValue(key, out var v) && v is not null ? v : fallback;

    public int Int(string key, int fallback, int min, int max)
    {
        if (!values.TryGetValue(key, out var v) || v is null) return fallback;
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) || x < min || x > max)
            throw new ArgumentException($"--{key} must be an integer in {min}..{max} (got '{v}').");
        return x;
    }

    public double Double(string key, double fallback, double min, double max)
    {
        if (!values.TryGetValue(key, out var v) || v is null) return fallback;
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !(x >= min && x <= max))
            throw new ArgumentException($"--{key} must be a number in [{min}, {max}] (got '{v}').");
        return x;
    }
}
