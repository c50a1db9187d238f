using System.Buffers.Binary;

namespace Delta.Backbones.Weights.Onnx;

/// <summary>
/// Protocol-buffers wire format, just enough for ONNX: varints, 64-bit, length-delimited and 32-bit fields.
/// Works on a span of one message; nested messages are read by slicing their length-delimited bytes.
/// </summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data, string source)
{
    private readonly ReadOnlySpan<byte> data = data;
    private int position;

    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    public bool AtEnd => position >= data.Length;

    /// <summary>Next field's number and wire type.</summary>
    public (int Field, int WireType) ReadTag()
    {
        var key = ReadVarint();
        return ((int)(key >> 3), (int)(key & 7));
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length) throw Truncated();
            var b = data[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new InvalidDataException($"{source}: malformed varint at byte {position}.");
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadVarint();
        if (length > (ulong)(data.Length - position)) throw Truncated();
        var slice = data.Slice(position, (int)length);
        position += (int)length;
        return slice;
    }

    public string ReadString() => System.Text.Encoding.UTF8.GetString(ReadBytes());

    public float ReadFixed32Float()
    {
        if (position + 4 > data.Length) throw Truncated();
        var v = BinaryPrimitives.ReadSingleLittleEndian(data.Slice(position, 4));
        position += 4;
        return v;
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint: ReadVarint(); break;
            case Fixed64: Advance(8); break;
            case LengthDelimited: ReadBytes(); break;
            case Fixed32: Advance(4); break;
            default: throw new InvalidDataException($"{source}: unsupported wire type {wireType} at byte {position}.");
        }
    }

    private void Advance(int n)
    {
        if (position + n > data.Length) throw Truncated();
        position += n;
    }

    private InvalidDataException Truncated() => new($"{source}: truncated protobuf message (at byte {position} of {data.Length}).");
}
