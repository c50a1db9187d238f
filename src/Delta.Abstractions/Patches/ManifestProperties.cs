using System.Globalization;

namespace Delta.Abstractions.Patches;

/// <summary>
/// Typed reads of a patch manifest's string <see cref="PatchManifest.Properties"/>, for plugins that rebuild a model
/// from them: a missing or unreadable property is a <see cref="PatchException"/> (Incompatible) naming the patch file,
/// the key and the value, not a bare FormatException or KeyNotFoundException from deep inside the loader.
/// </summary>
public sealed class ManifestProperties(PatchManifest manifest, string path, string plugin)
{
    public string String(string key) => manifest.Properties.TryGetValue(key, out var v) ? v
        : throw new PatchException(PatchErrorKind.Incompatible, path, $"manifest lacks the {plugin} property '{key}'.");

    public int Int(string key) => TryInt(key, out var v) ? v : throw Unreadable(key, "an integer");

    /// <summary>An integer of at least <paramref name="minimum"/> (a size, a count).</summary>
    public int Int(string key, int minimum) => TryInt(key, out var v) && v >= minimum ? v : throw Unreadable(key, $"an integer ≥ {minimum}");

    public double Double(string key) =>
        double.TryParse(String(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw Unreadable(key, "a number");

    /// <summary>A comma-separated list of numbers.</summary>
    public IReadOnlyList<double> Doubles(string key) =>
        String(key).Split(',').Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw Unreadable(key, "a comma-separated list of numbers")).ToList();

    /// <summary>True when the manifest has every one of <paramref name="keys"/>, false when it has none of them (a patch
    /// saved before they were recorded). Some but not all is refused, naming the missing ones: guessing the rest would
    /// silently rebuild something else than what was trained.</summary>
    public bool HasAll(string what, params string[] keys)
    {
        var missing = keys.Where(k => !manifest.Properties.ContainsKey(k)).ToList();
        if (missing.Count == keys.Length) return false;
        if (missing.Count == 0) return true;
        throw new PatchException(PatchErrorKind.Incompatible, path, $"manifest records only part of its {what} (missing {string.Join(", ", missing)}).");
    }

    private bool TryInt(string key, out int value) => int.TryParse(String(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);

    private PatchException Unreadable(string key, string what) =>
        new(PatchErrorKind.Incompatible, path, $"manifest property '{key}' = '{manifest.Properties[key]}' is not {what}.");
}
