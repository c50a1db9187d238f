using System.Buffers.Binary;
using System.Text;

namespace Delta.Backbones.Tests.Weights;

/// <summary>A minimal protobuf writer for hand-built ONNX test files (the reader under test must not write its own inputs).</summary>
internal sealed class ProtoBytes
{
    private readonly List<byte> bytes = [];

    public byte[] ToArray() => bytes.ToArray();

    public ProtoBytes Varint(int field, ulong value) { Tag(field, 0); RawVarint(value); return this; }
    public ProtoBytes Fixed64(int field, ulong value) { Tag(field, 1); var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, value); bytes.AddRange(b); return this; }
    public ProtoBytes Fixed32Float(int field, float value) { Tag(field, 5); var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, value); bytes.AddRange(b); return this; }
    public ProtoBytes Bytes(int field, byte[] value) { Tag(field, 2); RawVarint((ulong)value.Length); bytes.AddRange(value); return this; }
    public ProtoBytes String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));
    public ProtoBytes Message(int field, ProtoBytes value) => Bytes(field, value.ToArray());

    public static byte[] PackedFloats(params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }

    public static byte[] PackedVarints(params ulong[] values)
    {
        var p = new ProtoBytes();
        foreach (var v in values) p.RawVarint(v);
        return p.ToArray();
    }

    private void Tag(int field, int wire) => RawVarint((ulong)(field << 3 | wire));

    private void RawVarint(ulong v)
    {
        while (v >= 0x80) { bytes.Add((byte)(v | 0x80)); v >>= 7; }
        bytes.Add((byte)v);
    }
}
