using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Delta.Data.Datasets;

/// <summary>One numeric array of a MAT-file: name, MATLAB class, dimensions and the raw little-endian data
/// in its stored element type (MATLAB may store a double array as miUINT8 when the values fit).</summary>
public sealed record MatArray(string Name, MatV5Reader.MxClass Class, int[] Dims, MatV5Reader.MiType StoredType, byte[] Data)
{
    public long Count => Dims.Aggregate(1L, (a, d) => a * d);

    /// <summary>The values as doubles, whatever the stored element type.</summary>
    public double[] ToDoubles()
    {
        var n = (int)Count;
        var result = new double[n];
        var span = Data.AsSpan();
        for (int i = 0; i < n; i++)
            result[i] = StoredType switch
            {
                MatV5Reader.MiType.Int8 => (sbyte)span[i],
                MatV5Reader.MiType.UInt8 => span[i],
                MatV5Reader.MiType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(span[(2 * i)..]),
                MatV5Reader.MiType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(span[(2 * i)..]),
                MatV5Reader.MiType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(span[(4 * i)..]),
                MatV5Reader.MiType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(span[(4 * i)..]),
                MatV5Reader.MiType.Single => BinaryPrimitives.ReadSingleLittleEndian(span[(4 * i)..]),
                MatV5Reader.MiType.Double => BinaryPrimitives.ReadDoubleLittleEndian(span[(8 * i)..]),
                MatV5Reader.MiType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(span[(8 * i)..]),
                MatV5Reader.MiType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(span[(8 * i)..]),
                _ => throw new NotSupportedException($"{Name}: element type {StoredType} is not numeric."),
            };
        return result;
    }
}

/// <summary>
/// A reader for the part of the MATLAB level-5 MAT-file format that numeric datasets (e.g. SVHN's
/// train_32x32.mat) use: the 128-byte header, data-element tags (normal and the 4-byte "small element" form),
/// miCOMPRESSED elements (zlib) and miMATRIX elements holding real, non-sparse numeric arrays.
/// Little-endian files only. Cell, struct, sparse, char and complex arrays are rejected with a clear error.
/// Data are column-major, as MATLAB stores them.
/// </summary>
public static class MatV5Reader
{
    public enum MiType { Int8 = 1, UInt8 = 2, Int16 = 3, UInt16 = 4, Int32 = 5, UInt32 = 6, Single = 7, Double = 9, Int64 = 12, UInt64 = 13, Matrix = 14, Compressed = 15, Utf8 = 16 }
    public enum MxClass { Cell = 1, Struct = 2, Object = 3, Char = 4, Sparse = 5, Double = 6, Single = 7, Int8 = 8, UInt8 = 9, Int16 = 10, UInt16 = 11, Int32 = 12, UInt32 = 13, Int64 = 14, UInt64 = 15 }

    public const int HeaderBytes = 128;

    public static int SizeOf(MiType t) => t switch
    {
        MiType.Int8 or MiType.UInt8 or MiType.Utf8 => 1,
        MiType.Int16 or MiType.UInt16 => 2,
        MiType.Int32 or MiType.UInt32 or MiType.Single => 4,
        MiType.Double or MiType.Int64 or MiType.UInt64 => 8,
        _ => 0,
    };

    /// <summary>All numeric arrays of the file by name.</summary>
    public static Dictionary<string, MatArray> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"MAT-file not found: {path}", path);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new InvalidDataException($"{path}: cannot be read ({e.Message}).", e); }
        if (bytes.Length < HeaderBytes) throw new InvalidDataException($"{path}: {bytes.Length} bytes, shorter than the 128-byte MAT-file header.");
        var text = Encoding.ASCII.GetString(bytes, 0, 10);
        if (!text.StartsWith("MATLAB 5.0", StringComparison.Ordinal) && !text.StartsWith("MATLAB 7", StringComparison.Ordinal))
            throw new InvalidDataException($"{path}: not a MATLAB level-5 MAT-file (header text '{Encoding.ASCII.GetString(bytes, 0, 20).TrimEnd('\0')}'; v7.3 HDF5 files are not supported).");
        if (bytes[126] == 'M' && bytes[127] == 'I') throw new NotSupportedException($"{path}: big-endian MAT-files are not supported.");
        if (bytes[126] != 'I' || bytes[127] != 'M') throw new InvalidDataException($"{path}: bad endian indicator in the MAT-file header.");
        var version = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(124));
        if (version != 0x0100) throw new InvalidDataException($"{path}: MAT-file version 0x{version:x4}, expected 0x0100.");

        var arrays = new Dictionary<string, MatArray>(StringComparer.Ordinal);
        int pos = HeaderBytes;
        while (pos < bytes.Length)
        {
            if (bytes.Length - pos < 8) throw new InvalidDataException($"{path}: truncated data-element tag at byte {pos}.");
            var (type, size, dataAt, next) = Tag(bytes, pos, path);
            if (dataAt + size > bytes.Length) throw new InvalidDataException($"{path}: element at byte {pos} declares {size} bytes, only {bytes.Length - dataAt} remain (truncated file).");
            switch (type)
            {
                case MiType.Compressed:
                    var inner = Inflate(bytes.AsSpan(dataAt, size), path, pos);
                    if (inner.Length < 8) throw new InvalidDataException($"{path}: compressed element at byte {pos} holds no data element.");
                    var (innerType, innerSize, innerData, _) = Tag(inner, 0, path);
                    if (innerType != MiType.Matrix) throw new InvalidDataException($"{path}: compressed element at byte {pos} holds {innerType}, expected miMATRIX.");
                    if (innerData + innerSize > inner.Length) throw new InvalidDataException($"{path}: compressed element at byte {pos} is truncated.");
                    Add(arrays, Matrix(inner.AsMemory(innerData, innerSize), path, pos));
                    pos = dataAt + size;                                  // compressed elements are not padded
                    break;
                case MiType.Matrix:
                    Add(arrays, Matrix(bytes.AsMemory(dataAt, size), path, pos));
                    pos = next;
                    break;
                default:
                    throw new InvalidDataException($"{path}: top-level element of type {(int)type} at byte {pos}; expected miMATRIX (14) or miCOMPRESSED (15).");
            }
        }
        return arrays;
    }

    private static void Add(Dictionary<string, MatArray> arrays, MatArray? a)
    {
        if (a is not null) arrays[a.Name] = a;
    }

    /// <summary>Reads a tag at <paramref name="pos"/>: (type, byte count, data offset, offset of the next element, 8-byte aligned).</summary>
    private static (MiType Type, int Size, int DataAt, int Next) Tag(ReadOnlySpan<byte> b, int pos, string path)
    {
        var first = BinaryPrimitives.ReadUInt32LittleEndian(b[pos..]);
        if ((first >> 16) != 0)                                        // small element: size:16 | type:16, data in the next 4 bytes
        {
            var smallSize = (int)(first >> 16);
            if (smallSize > 4) throw new InvalidDataException($"{path}: small data element at byte {pos} claims {smallSize} bytes (max 4).");
            return ((MiType)(first & 0xffff), smallSize, pos + 4, pos + 8);
        }
        var size = BinaryPrimitives.ReadUInt32LittleEndian(b[(pos + 4)..]);
        if (size > int.MaxValue - 16) throw new InvalidDataException($"{path}: element at byte {pos} declares {size} bytes.");
        var dataAt = pos + 8;
        return ((MiType)first, (int)size, dataAt, dataAt + (((int)size + 7) & ~7));
    }

    private static byte[] Inflate(ReadOnlySpan<byte> compressed, string path, int pos)
    {
        try
        {
            using var input = new MemoryStream(compressed.ToArray());
            using var z = new ZLibStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            z.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: corrupt zlib data in the compressed element at byte {pos} ({e.Message}).", e); }
    }

    /// <summary>Parses miMATRIX contents: array flags, dimensions, name, real part.</summary>
    private static MatArray Matrix(ReadOnlyMemory<byte> mem, string path, int elementPos)
    {
        var m = mem.Span;
        string Where(string what) => $"{path}: miMATRIX at byte {elementPos}: {what}";
        int p = 0;
        (MiType Type, int Size, int DataAt, int Next) Sub(string what)
        {
            var span = mem.Span;
            if (span.Length - p < 8) throw new InvalidDataException(Where($"truncated before the {what} sub-element."));
            var t = Tag(span, p, path);
            if (t.DataAt + t.Size > span.Length) throw new InvalidDataException(Where($"the {what} sub-element runs past the end of the matrix (truncated)."));
            return t;
        }

        var flags = Sub("array flags");
        if (flags.Type != MiType.UInt32 || flags.Size != 8) throw new InvalidDataException(Where($"array flags must be miUINT32 x2, got type {(int)flags.Type} with {flags.Size} bytes."));
        var flagWord = BinaryPrimitives.ReadUInt32LittleEndian(m[flags.DataAt..]);
        var cls = (MxClass)(flagWord & 0xff);
        if ((flagWord & 0x0800) != 0) throw new NotSupportedException(Where("complex arrays are not supported."));
        if (cls is MxClass.Cell or MxClass.Struct or MxClass.Object or MxClass.Char or MxClass.Sparse || !Enum.IsDefined(cls))
            throw new NotSupportedException(Where($"array class {cls} is not a numeric array."));
        p = flags.Next;

        var dimsTag = Sub("dimensions");
        if (dimsTag.Type != MiType.Int32 || dimsTag.Size < 8 || dimsTag.Size % 4 != 0) throw new InvalidDataException(Where("dimensions must be miINT32 with at least 2 entries."));
        var dims = new int[dimsTag.Size / 4];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32LittleEndian(m[(dimsTag.DataAt + 4 * i)..]);
            if (dims[i] < 0) throw new InvalidDataException(Where($"negative dimension {dims[i]}."));
        }
        p = dimsTag.Next;

        var nameTag = Sub("array name");
        if (nameTag.Type != MiType.Int8) throw new InvalidDataException(Where($"array name must be miINT8, got type {(int)nameTag.Type}."));
        var name = Encoding.ASCII.GetString(m.Slice(nameTag.DataAt, nameTag.Size));
        p = nameTag.Next;

        long count = dims.Aggregate(1L, (a, d) => a * d);
        if (count == 0) return new MatArray(name, cls, dims, MiType.Double, []);
        var real = Sub($"real part of '{name}'");
        var size = SizeOf(real.Type);
        if (size == 0) throw new InvalidDataException(Where($"'{name}' has non-numeric element type {(int)real.Type}."));
        if ((long)real.Size != count * size)
            throw new InvalidDataException(Where($"'{name}' is [{string.Join("x", dims)}] = {count} values of {size} bytes, but its data has {real.Size} bytes."));
        return new MatArray(name, cls, dims, real.Type, m.Slice(real.DataAt, real.Size).ToArray());
    }
}
