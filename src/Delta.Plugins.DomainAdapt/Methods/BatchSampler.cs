using Delta.Data.Loading;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Methods;

/// <summary>Seeded random mini-batches (with reshuffling per epoch) as index tensors on the data's device.</summary>
public sealed class BatchSampler
{
    private readonly int count;
    private readonly int batchSize;
    private readonly Random rng;
    private int[] order = [];
    private int position;

    public BatchSampler(int count, int batchSize, int seed)
    {
        if (count < 1) throw new ArgumentException("Cannot sample batches from an empty set.");
        this.count = count; this.batchSize = Math.Min(batchSize, count); rng = new Random(seed);
    }

    public Tensor Next(Device device)
    {
        if (position + batchSize > order.Length) { order = Enumerable.Range(0, count).OrderBy(_ => rng.Next()).ToArray(); position = 0; }
        var idx = order.AsSpan(position, batchSize).ToArray().Select(i => (long)i).ToArray();
        position += batchSize;
        using var host = tensor(idx, dtype: ScalarType.Int64);
        return HostToDevice.Copy(host, device);                                    // no host wait on CUDA
    }
}
