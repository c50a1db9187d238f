using Delta.Backbones.Weights.Onnx;

namespace Delta.Backbones.Tests.Weights;

/// <summary>Delta's own ONNX protobuf reader on hand-built files: field numbers from onnx.proto3
/// (ModelProto.graph 7; GraphProto.node 1, initializer 5; TensorProto dims 1, data_type 2, float_data 4, name 8, raw_data 9).</summary>
public sealed class OnnxModelTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-onnx-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static byte[] Model()
    {
        // 300 needs a two-byte varint (0xAC 0x02); dims packed in one tensor, unpacked in the other.
        var packed = new ProtoBytes().Bytes(1, ProtoBytes.PackedVarints(2, 1, 1)).Varint(2, 1)
            .Bytes(4, ProtoBytes.PackedFloats(1.5f, -2f)).String(8, "W");
        var big = Enumerable.Range(0, 300).Select(i => i * 0.25f).ToArray();
        var raw = new ProtoBytes().Varint(1, 300).Varint(2, 1).String(8, "R").Bytes(9, ProtoBytes.PackedFloats(big));
        var unpacked = new ProtoBytes().Varint(1, 3).Varint(2, 1).Fixed32Float(4, 7f).Fixed32Float(4, 8f).Fixed32Float(4, 9f).String(8, "U");
        var int64 = new ProtoBytes().Varint(1, 1).Varint(2, 7).String(8, "shape").Bytes(7, ProtoBytes.PackedVarints(5));
        var conv = new ProtoBytes().String(1, "X").String(1, "W").String(2, "Y").String(3, "conv0").String(4, "Conv")
            .Message(5, new ProtoBytes().String(1, "group").Varint(3, 1));                 // an attribute: skipped
        var graph = new ProtoBytes().Message(1, conv).String(2, "g").Message(5, packed).Message(5, raw)
            .Message(5, unpacked).Message(5, int64).Fixed64(99, 42);                        // unknown fixed64 field: skipped
        return new ProtoBytes().Varint(1, 3).String(2, "test").Message(7, graph).ToArray();
    }

    private string Write(byte[] bytes, string name = "m.onnx")
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void ReadsPackedUnpackedAndRawFloatInitializersAndNodes()
    {
        var model = OnnxModel.Load(Write(Model()));
        Assert.Equal(new long[] { 2, 1, 1 }, model.Initializers["W"].Dims);
        Assert.Equal(new[] { 1.5f, -2f }, model.Initializers["W"].Values);
        Assert.Equal(new long[] { 300 }, model.Initializers["R"].Dims);
        Assert.Equal(299 * 0.25f, model.Initializers["R"].Values[299]);
        Assert.Equal(new[] { 7f, 8f, 9f }, model.Initializers["U"].Values);
        Assert.Equal(["shape"], model.SkippedInitializers);                                  // int64: not decoded
        var node = Assert.Single(model.Nodes);
        Assert.Equal(("Conv", "conv0"), (node.OpType, node.Name));
        Assert.Equal(["X", "W"], node.Inputs);
        Assert.Equal(["Y"], node.Outputs);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(40)]
    [InlineData(-3)]
    public void ATruncatedFileFailsNamingIt(int cut)
    {
        var bytes = Model();
        var path = Write(bytes[..(cut > 0 ? cut : bytes.Length + cut)], "cut.onnx");
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path));
        Assert.Contains("cut.onnx", e.Message);
    }

    [Fact]
    public void ValuesThatDoNotFillTheDimsAreRefused()
    {
        var t = new ProtoBytes().Bytes(1, ProtoBytes.PackedVarints(2, 2)).Varint(2, 1).Bytes(4, ProtoBytes.PackedFloats(1, 2, 3)).String(8, "bad");
        var bytes = new ProtoBytes().Message(7, new ProtoBytes().Message(5, t)).ToArray();
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(Write(bytes)));
        Assert.Contains("'bad' has 3 values but dims [2, 2] need 4", e.Message);
    }

    [Fact]
    public void AFileWithoutAGraphIsNotAModel()
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxModel.Load(Write(new ProtoBytes().Varint(1, 3).ToArray(), "nograph.onnx")));
        Assert.Contains("nograph.onnx", e.Message);
    }
}
