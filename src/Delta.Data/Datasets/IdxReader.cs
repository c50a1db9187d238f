using System.IO.Compression;
using static TorchSharp.torch;

namespace Delta.Data.Datasets;

/// <summary>
/// IDX files (MNIST, Fashion-MNIST), gzipped or not: magic 0x00 0x00 type ndim, big-endian int32 dims, then
/// the data. Images must be unsigned bytes with 3 dims [N, H, W]; labels unsigned bytes with 1 dim [N].
/// </summary>
public static class IdxReader
{
    private static byte[] ReadAll(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file not found: {path}", path);
        using var file = File.OpenRead(path);
        var gz = file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
        file.Position = 0;
        using Stream s = gz ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var ms = new MemoryStream();
        try { s.CopyTo(ms); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: corrupt gzip stream ({e.Message})."); }
        return ms.ToArray();
    }

    private static (int[] Dims, int Offset) Header(byte[] b, string path, int expectedDims)
    {
        if (b.Length < 4 || b[0] != 0 || b[1] != 0) throw new InvalidDataException($"{path}: not an IDX file (bad magic).");
        if (b[2] != 0x08) throw new InvalidDataException($"{path}: IDX element type 0x{b[2]:x2} is not unsigned byte (0x08).");
        if (b[3] != expectedDims) throw new InvalidDataException($"{path}: expected {expectedDims} dimensions, the file has {b[3]}.");
        if (b.Length < 4 + 4 * expectedDims) throw new InvalidDataException($"{path}: truncated header.");
        var dims = Enumerable.Range(0, expectedDims).Select(i => System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(b.AsSpan(4 + 4 * i, 4))).ToArray();
        var offset = 4 + 4 * expectedDims;
        long need = dims.Aggregate(1L, (a, d) => a * d);
        if (dims.Any(d => d < 0) || b.Length - offset != need)
            throw new InvalidDataException($"{path}: header says [{string.Join(", ", dims)}] = {need} bytes of data, file has {b.Length - offset}.");
        return (dims, offset);
    }

    /// <summary>Images as float [N, 1, H, W] in [0, 1].</summary>
    public static Tensor ReadImages(string path, int? limit = null)
    {
        var b = ReadAll(path);
        var (dims, offset) = Header(b, path, 3);
        var n = limit is { } l ? Math.Min(l, dims[0]) : dims[0];
        using var scope = NewDisposeScope();
        var raw = tensor(b.AsSpan(offset, n * dims[1] * dims[2]).ToArray(), dtype: ScalarType.Byte).reshape(n, 1, dims[1], dims[2]);
        return raw.to_type(ScalarType.Float32).div_(255f).MoveToOuterDisposeScope();
    }

    public static int[] ReadLabels(string path, int numClasses, int? limit = null)
    {
        var b = ReadAll(path);
        var (dims, offset) = Header(b, path, 1);
        var n = limit is { } l ? Math.Min(l, dims[0]) : dims[0];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = b[offset + i];
            if (labels[i] >= numClasses) throw new InvalidDataException($"{path}: label {labels[i]} at item {i} is outside 0..{numClasses - 1}.");
        }
        return labels;
    }
}
