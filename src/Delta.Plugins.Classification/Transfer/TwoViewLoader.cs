using Delta.Abstractions.Backbones;
using Delta.Data.Datasets;
using Delta.Data.Loading;
using Delta.Data.Transforms;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Transfer;

/// <summary>
/// Training batches for Bi-Tuning's protocol: each image is augmented twice, independently (the reference applies
/// its train augmentation twice, <c>MultipleApply([aug, aug])</c>): view 0 feeds the query encoder, view 1 the key
/// encoder. Order: a seeded permutation per epoch; every view's augmentation is drawn from its own generator,
/// seeded from (seed, epoch, position, view), so a run repeats exactly. Single-threaded: the transfer data sets
/// are small, in-memory images.
/// </summary>
public sealed class TwoViewLoader(IImageDataset data, IReadOnlyList<int> indices, int batchSize, IImageTransform augmentation, int size,
    IInputPreprocessing preprocessing, Device device, int seed, bool twoViews)
{
    public int Count => indices.Count;
    public long BatchesPerEpoch => (indices.Count + batchSize - 1) / batchSize;

    public IEnumerable<TwoViewBatch> Epoch(int epoch)
    {
        if (batchSize < 1) throw new InvalidOperationException($"batch size must be positive, got {batchSize}.");
        var order = indices.ToArray();
        var rng = new Random(unchecked(seed * 7919 + epoch));
        for (int i = order.Length - 1; i > 0; i--) { var j = rng.Next(i + 1); (order[i], order[j]) = (order[j], order[i]); }
        for (int start = 0; start < order.Length; start += batchSize)
        {
            var ids = order.Skip(start).Take(batchSize).ToArray();
            yield return Build(epoch, start, ids);
        }
    }

    private TwoViewBatch Build(int epoch, int start, int[] ids)
    {
        using var scope = NewDisposeScope();
        var query = View(epoch, start, ids, 0);
        var key = twoViews ? View(epoch, start, ids, 1) : null;
        var hostLabels = ids.Select(i => (long)data.Label(i)).ToArray();
        var labels = HostToDevice.Copy(tensor(hostLabels, dtype: ScalarType.Int64), device);
        return new TwoViewBatch(query.MoveToOuterDisposeScope(), key?.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), hostLabels);
    }

    /// <summary>[B, 3, size, size] preprocessed.</summary>
    private Tensor View(int epoch, int start, int[] ids, int view)
    {
        using var scope = NewDisposeScope();
        var items = new Tensor[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            var itemRng = new Random(unchecked(((seed * 1_000_003 + epoch) * 1_000_033 + start + i) * 2 + view));
            var x = augmentation.Apply(data.Load(ids[i]), itemRng);                                   // [c, h, w] in [0, 1]
            if (x.shape[1] != size || x.shape[2] != size) x = Resize.To(x, size, size);
            items[i] = x.shape[0] == 1 ? x.expand(3, -1, -1) : x;                                      // grey → RGB
        }
        return preprocessing.Apply(HostToDevice.Copy(stack(items), device)).MoveToOuterDisposeScope();
    }
}
