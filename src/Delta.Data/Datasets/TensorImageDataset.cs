using static TorchSharp.torch;

namespace Delta.Data.Datasets;

/// <summary>A dataset held in memory: images [N, C, H, W] float in [0, 1] (or uint8 0..255, converted to float as items
/// are read, which keeps large sets at a quarter of the memory) and labels [N].</summary>
public sealed class TensorImageDataset : IImageDataset, IDisposable
{
    public TensorImageDataset(string name, Tensor images, int[] labels, IReadOnlyList<string> classNames)
    {
        if (images.dim() != 4) throw new ArgumentException($"{name}: images must be [N, C, H, W], got [{string.Join(", ", images.shape)}].");
        if (images.shape[0] != labels.Length) throw new ArgumentException($"{name}: {images.shape[0]} images but {labels.Length} labels.");
        if (images.dtype is not (ScalarType.Float32 or ScalarType.Byte)) throw new ArgumentException($"{name}: images must be float32 in [0, 1] or uint8, got {images.dtype}.");
        if (labels.Any(l => l < 0 || l >= classNames.Count)) throw new ArgumentException($"{name}: label {labels.First(l => l < 0 || l >= classNames.Count)} outside 0..{classNames.Count - 1}.");
        Name = name; Images = images; Labels = labels; ClassNames = classNames;
    }

    public string Name { get; }
    public Tensor Images { get; }
    public int[] Labels { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public int Count => Labels.Length;
    public int Label(int index) => Labels[index];
    public Tensor Load(int index)
    {
        using var item = Images[index];
        return ToFloat(item);
    }

    /// <summary>Items at <paramref name="indices"/> as float [n, C, H, W] in [0, 1].</summary>
    public Tensor Gather(IReadOnlyList<int> indices)
    {
        using var idx = tensor(indices.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64);
        using var rows = Images.index_select(0, idx);
        return ToFloat(rows);
    }

    private static Tensor ToFloat(Tensor t) => t.dtype == ScalarType.Byte ? t.to_type(ScalarType.Float32).div_(255f) : t.clone();

    /// <summary>The items at <paramref name="indices"/> as a new in-memory dataset.</summary>
    public TensorImageDataset Select(IReadOnlyList<int> indices, string? name = null)
    {
        using var idx = tensor(indices.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64);
        return new TensorImageDataset(name ?? Name, Images.index_select(0, idx), indices.Select(i => Labels[i]).ToArray(), ClassNames);
    }

    /// <summary>Loads every item of a lazy dataset into memory (all items must share one size).</summary>
    public static TensorImageDataset Materialize(IImageDataset source, IReadOnlyList<int>? indices = null)
    {
        if (source is TensorImageDataset t) return indices is null ? t : t.Select(indices);
        var ids = indices ?? Enumerable.Range(0, source.Count).ToList();
        var items = new Tensor[ids.Count];
        try
        {
            for (int i = 0; i < ids.Count; i++) items[i] = source.Load(ids[i]);
            var first = items.Length > 0 ? items[0].shape : [];
            var mismatch = Array.FindIndex(items, x => !x.shape.SequenceEqual(first));
            if (mismatch >= 0) throw new InvalidDataException($"{source.Name}: item {ids[mismatch]} is [{string.Join(", ", items[mismatch].shape)}], item {ids[0]} is [{string.Join(", ", first)}]; resize before materializing.");
            return new TensorImageDataset(source.Name, stack(items), ids.Select(source.Label).ToArray(), source.ClassNames);
        }
        finally { foreach (var x in items) x?.Dispose(); }
    }

    public void Dispose() => Images.Dispose();
}
