using static TorchSharp.torch;

namespace Delta.Data.Datasets;

/// <summary>
/// SVHN cropped digits (<c>train_32x32.mat</c>, <c>test_32x32.mat</c>, <c>extra_32x32.mat</c>): MAT-file arrays
/// X uint8 [32, 32, 3, N] (column-major: row, column, RGB channel, item) and y [N, 1] with labels 1..10, where 10
/// means the digit 0. Images are kept as uint8 [N, 3, 32, 32] in memory (a quarter of float's size) and turn into
/// float in [0, 1] as they are loaded.
/// </summary>
public static class SvhnReader
{
    public static TensorImageDataset Read(string path, string? name = null)
    {
        var arrays = MatV5Reader.Read(path);
        if (!arrays.TryGetValue("X", out var x)) throw new InvalidDataException($"{path}: no array 'X' (SVHN cropped digits hold X and y); found: {string.Join(", ", arrays.Keys)}.");
        if (!arrays.TryGetValue("y", out var y)) throw new InvalidDataException($"{path}: no array 'y' (SVHN cropped digits hold X and y); found: {string.Join(", ", arrays.Keys)}.");
        if (x.Dims.Length != 4 || x.Dims[2] != 3) throw new InvalidDataException($"{path}: X is [{string.Join("x", x.Dims)}], expected [H x W x 3 x N].");
        if (x.StoredType != MatV5Reader.MiType.UInt8) throw new InvalidDataException($"{path}: X is stored as {x.StoredType}, expected uint8 pixels.");
        int h = x.Dims[0], w = x.Dims[1], n = x.Dims[3];
        if (y.Count != n) throw new InvalidDataException($"{path}: X has {n} images but y has {y.Count} labels.");
        var labels = new int[n];
        var raw = y.ToDoubles();
        for (int i = 0; i < n; i++)
        {
            var v = raw[i];
            if (v != Math.Floor(v) || v < 0 || v > 10) throw new InvalidDataException($"{path}: label y[{i}] = {v} is not an integer 0..10 (SVHN uses 1..10, 10 = digit 0).");
            labels[i] = v == 10 ? 0 : (int)v;
        }
        using var scope = NewDisposeScope();
        // Column-major [H, W, 3, N] read row-major is [N, 3, W, H]; swap the last two to get [N, 3, H, W].
        var images = tensor(x.Data, dtype: ScalarType.Byte).reshape(n, 3, w, h).transpose(2, 3).contiguous();
        return new TensorImageDataset(name ?? Path.GetFileNameWithoutExtension(path), images.MoveToOuterDisposeScope(), labels, DigitReaders.Digits);
    }
}
