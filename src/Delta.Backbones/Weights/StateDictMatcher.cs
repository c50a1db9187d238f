using static TorchSharp.torch;

namespace Delta.Backbones.Weights;

/// <summary>
/// Copies a state dict into a module strictly: every key of the module must be present with the same shape,
/// no unknown keys may remain. Errors list missing, unexpected and mis-shaped keys together, naming the file.
/// Keys under <paramref name="ignoredPrefixes"/> in the source are dropped first — used for a torchvision
/// classifier ("fc.", "classifier.") because Delta's bases have no head. Values are converted to the
/// module's dtype (e.g. float64 or float16 files into float32 modules). A missing BatchNorm
/// <c>num_batches_tracked</c> is not an error: state dicts saved before PyTorch 0.4.1 (among them torchvision's
/// original model-zoo files) have none, and PyTorch itself fills it in on load; it is set to 0 here too (it only
/// matters for BN with momentum=None, and a frozen base never updates its statistics).
/// </summary>
public static class StateDictMatcher
{
    public static readonly string[] ClassifierPrefixes = ["fc.", "classifier."];

    public static void LoadStrict(nn.Module module, IReadOnlyDictionary<string, Tensor> source, string sourceName, IReadOnlyList<string>? ignoredPrefixes = null)
    {
        var target = module.state_dict();
        var usable = source.Where(kv => ignoredPrefixes is null || !ignoredPrefixes.Any(p => kv.Key.StartsWith(p, StringComparison.Ordinal)))
                           .ToDictionary(kv => kv.Key, kv => kv.Value);
        var missing = target.Keys.Where(k => !usable.ContainsKey(k) && !IsBatchCounter(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var unexpected = usable.Keys.Where(k => !target.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var misShaped = target.Where(kv => usable.TryGetValue(kv.Key, out var s) && !s.shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key}: expected [{string.Join(", ", kv.Value.shape)}], found [{string.Join(", ", usable[kv.Key].shape)}]").ToList();
        if (missing.Count + unexpected.Count + misShaped.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing keys ({missing.Count}): {Preview(missing)}");
            if (unexpected.Count > 0) parts.Add($"unexpected keys ({unexpected.Count}): {Preview(unexpected)}");
            if (misShaped.Count > 0) parts.Add($"mis-shaped keys ({misShaped.Count}): {Preview(misShaped)}");
            throw new InvalidDataException($"{sourceName}: weights do not fit the model — {string.Join("; ", parts)}.");
        }
        using var noGrad = no_grad();
        foreach (var (key, dest) in target)
        {
            if (!usable.TryGetValue(key, out var src)) { dest.zero_(); continue; }       // a num_batches_tracked (see above)
            using var converted = src.to(dest.dtype, dest.device);
            dest.copy_(converted);
        }
    }

    private static bool IsBatchCounter(string key) => key == "num_batches_tracked" || key.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

    private static string Preview(IReadOnlyList<string> keys) =>
        string.Join(", ", keys.Take(8)) + (keys.Count > 8 ? $", … (+{keys.Count - 8} more)" : "");
}
