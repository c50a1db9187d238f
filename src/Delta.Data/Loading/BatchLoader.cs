using System.Collections.Concurrent;
using Delta.Abstractions.Backbones;
using Delta.Data.Datasets;
using static TorchSharp.torch;

namespace Delta.Data.Loading;

/// <summary>
/// Batches of a dataset, ready for a backbone: items resized to <c>Size</c>, greyscale expanded to RGB,
/// optional horizontal flip, then the backbone's own preprocessing — applied per batch, on the device.
/// Order: a seeded permutation per epoch (deterministic given seed and epoch), or the dataset order.
/// In-memory datasets are sliced directly; file datasets are decoded by <see cref="Workers"/> threads into a
/// bounded queue of <see cref="Prefetch"/> ready batches. Tensors made on worker threads are detached from
/// any dispose scope and handed over to the consumer's batch, which the train loop disposes.
/// </summary>
public sealed class BatchLoader(IImageDataset data, IReadOnlyList<int> indices, int batchSize, int size, IInputPreprocessing preprocessing, Device device)
{
    public bool Shuffle { get; init; }
    public bool DropLast { get; init; }
    public bool HorizontalFlip { get; init; }
    public int Seed { get; init; }
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount - 1);
    public int Prefetch { get; init; } = 2;

    public int Count => indices.Count;
    public long BatchesPerEpoch => DropLast ? indices.Count / batchSize : (indices.Count + batchSize - 1) / batchSize;

    public IEnumerable<ImageBatch> Epoch(int epoch)
    {
        var order = indices.ToArray();
        var rng = new Random(unchecked(Seed * 7919 + epoch));
        if (Shuffle) for (int i = order.Length - 1; i > 0; i--) { var j = rng.Next(i + 1); (order[i], order[j]) = (order[j], order[i]); }
        var chunks = Enumerable.Range(0, (int)BatchesPerEpoch).Select(b => order.Skip(b * batchSize).Take(batchSize).ToArray()).ToList();
        var flips = chunks.Select(c => c.Select(_ => HorizontalFlip && rng.NextDouble() < 0.5).ToArray()).ToList();
        if (data is TensorImageDataset memory)
        {
            for (int b = 0; b < chunks.Count; b++) yield return Assemble(memory, chunks[b], flips[b]);
            yield break;
        }
        using var queue = new BlockingCollection<(int Index, Tensor Raw)>(Math.Max(1, Prefetch));
        var producer = Task.Run(() =>
        {
            try
            {
                for (int b = 0; b < chunks.Count; b++)
                {
                    var items = new Tensor[chunks[b].Length];
                    Parallel.For(0, items.Length, new ParallelOptions { MaxDegreeOfParallelism = Workers }, i =>
                    {
                        items[i] = data.Load(chunks[b][i]).DetachFromDisposeScope();
                    });
                    var stacked = stack(items).DetachFromDisposeScope();
                    foreach (var t in items) t.Dispose();
                    queue.Add((b, stacked));
                }
            }
            finally { queue.CompleteAdding(); }
        });
        foreach (var (b, raw) in queue.GetConsumingEnumerable())
        {
            using (raw) yield return Finish(raw, chunks[b], flips[b]);
        }
        producer.GetAwaiter().GetResult();            // surfaces a decode error (it names the file)
    }

    private ImageBatch Assemble(TensorImageDataset memory, int[] ids, bool[] flip)
    {
        using var idx = tensor(ids.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64);
        using var raw = memory.Images.index_select(0, idx);
        return Finish(raw, ids, flip);
    }

    private ImageBatch Finish(Tensor raw, int[] ids, bool[] flip)
    {
        using var scope = NewDisposeScope();
        var x = raw.to(device);                                                          // [N, C, h, w]
        if (x.shape[2] != size || x.shape[3] != size)
            x = nn.functional.interpolate(x, [size, size], mode: InterpolationMode.Bilinear, align_corners: false).clamp_(0, 1);
        if (x.shape[1] == 1) x = x.expand(-1, 3, -1, -1);                               // grey → RGB
        if (flip.Any(f => f))
        {
            var mask = tensor(flip, device: device).reshape(-1, 1, 1, 1);
            x = where(mask, x.flip(3), x);
        }
        var images = preprocessing.Apply(x.contiguous());
        var labels = tensor(ids.Select(i => (long)data.Label(i)).ToArray(), dtype: ScalarType.Int64, device: device);
        return new ImageBatch(images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }
}
