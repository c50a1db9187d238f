namespace Delta.Host.Training;

/// <summary>Running means of named losses over an epoch (plain numbers).</summary>
internal sealed class LossAccumulator
{
    private readonly Dictionary<string, double> sums = [];
    private long count;

    public void Add(IReadOnlyDictionary<string, double> losses, double total)
    {
        foreach (var (k, v) in losses) sums[k] = sums.GetValueOrDefault(k) + v;
        sums["total"] = sums.GetValueOrDefault("total") + total;
        count++;
    }

    public IReadOnlyDictionary<string, double> Means() =>
        count == 0 ? new Dictionary<string, double>() : sums.ToDictionary(kv => kv.Key, kv => kv.Value / count);
}
