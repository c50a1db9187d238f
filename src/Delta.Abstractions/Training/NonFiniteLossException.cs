namespace Delta.Abstractions.Training;

/// <summary>The summed loss became NaN or infinite: training stops and the job fails with this reason.</summary>
public sealed class NonFiniteLossException(long step, IReadOnlyDictionary<string, double> losses)
    : Exception($"Non-finite loss at step {step}: {string.Join(", ", losses.Select(kv => $"{kv.Key}={kv.Value}"))}.")
{
    public long Step { get; } = step;
    public IReadOnlyDictionary<string, double> Losses { get; } = losses;
}
