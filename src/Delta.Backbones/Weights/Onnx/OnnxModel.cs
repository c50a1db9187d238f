namespace Delta.Backbones.Weights.Onnx;

/// <summary>
/// The parts of an ONNX ModelProto that weight import needs: initializers (float tensors) and nodes.
/// Field numbers from onnx.proto3: ModelProto.graph = 7; GraphProto.node = 1, initializer = 5;
/// NodeProto.input = 1, output = 2, name = 3, op_type = 4; TensorProto.dims = 1, data_type = 2,
/// float_data = 4, name = 8, raw_data = 9. Only FLOAT (data_type 1) initializers are decoded; others are
/// kept out (their names listed in <see cref="SkippedInitializers"/>).
/// </summary>
public sealed class OnnxModel
{
    private const int FloatType = 1;

    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }
    public IReadOnlyList<OnnxNode> Nodes { get; }
    public IReadOnlyList<string> SkippedInitializers { get; }
    public string Path { get; }

    private OnnxModel(string path, Dictionary<string, OnnxTensor> initializers, List<OnnxNode> nodes, List<string> skipped)
    {
        Path = path; Initializers = initializers; Nodes = nodes; SkippedInitializers = skipped;
    }

    public static OnnxModel Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model not found: {path}", path);
        var bytes = File.ReadAllBytes(path);
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var nodes = new List<OnnxNode>();
        var skipped = new List<string>();
        var model = new ProtoReader(bytes, path);
        var sawGraph = false;
        while (!model.AtEnd)
        {
            var (field, wire) = model.ReadTag();
            if (field == 7 && wire == ProtoReader.LengthDelimited)
            {
                sawGraph = true;
                ReadGraph(model.ReadBytes(), path, initializers, nodes, skipped);
            }
            else model.Skip(wire);
        }
        if (!sawGraph) throw new InvalidDataException($"{path}: not an ONNX model (no graph field).");
        return new OnnxModel(path, initializers, nodes, skipped);
    }

    private static void ReadGraph(ReadOnlySpan<byte> bytes, string path, Dictionary<string, OnnxTensor> initializers, List<OnnxNode> nodes, List<string> skipped)
    {
        var graph = new ProtoReader(bytes, path);
        while (!graph.AtEnd)
        {
            var (field, wire) = graph.ReadTag();
            if (field == 1 && wire == ProtoReader.LengthDelimited) nodes.Add(ReadNode(graph.ReadBytes(), path));
            else if (field == 5 && wire == ProtoReader.LengthDelimited)
            {
                var t = ReadTensor(graph.ReadBytes(), path, out var name);
                if (t is null) skipped.Add(name);
                else if (!initializers.TryAdd(t.Name, t)) throw new InvalidDataException($"{path}: initializer '{t.Name}' appears twice.");
            }
            else graph.Skip(wire);
        }
    }

    private static OnnxNode ReadNode(ReadOnlySpan<byte> bytes, string path)
    {
        var r = new ProtoReader(bytes, path);
        var inputs = new List<string>(); var outputs = new List<string>();
        string op = "", name = "";
        while (!r.AtEnd)
        {
            var (field, wire) = r.ReadTag();
            switch (field)
            {
                case 1 when wire == ProtoReader.LengthDelimited: inputs.Add(r.ReadString()); break;
                case 2 when wire == ProtoReader.LengthDelimited: outputs.Add(r.ReadString()); break;
                case 3 when wire == ProtoReader.LengthDelimited: name = r.ReadString(); break;
                case 4 when wire == ProtoReader.LengthDelimited: op = r.ReadString(); break;
                default: r.Skip(wire); break;
            }
        }
        return new OnnxNode(op, name, inputs, outputs);
    }

    private static OnnxTensor? ReadTensor(ReadOnlySpan<byte> bytes, string path, out string name)
    {
        var r = new ProtoReader(bytes, path);
        var dims = new List<long>();
        var floats = new List<float>();
        byte[]? raw = null;
        int dataType = 0;
        name = "";
        while (!r.AtEnd)
        {
            var (field, wire) = r.ReadTag();
            switch (field)
            {
                case 1 when wire == ProtoReader.Varint: dims.Add((long)r.ReadVarint()); break;
                case 1 when wire == ProtoReader.LengthDelimited:                       // packed dims
                    var packed = new ProtoReader(r.ReadBytes(), path);
                    while (!packed.AtEnd) dims.Add((long)packed.ReadVarint());
                    break;
                case 2 when wire == ProtoReader.Varint: dataType = (int)r.ReadVarint(); break;
                case 4 when wire == ProtoReader.Fixed32: floats.Add(r.ReadFixed32Float()); break;
                case 4 when wire == ProtoReader.LengthDelimited:                       // packed float_data
                    var span = r.ReadBytes();
                    if (span.Length % 4 != 0) throw new InvalidDataException($"{path}: float_data of a tensor has {span.Length} bytes, not a multiple of 4.");
                    floats.AddRange(LittleEndianFloats(span));
                    break;
                case 8 when wire == ProtoReader.LengthDelimited: name = r.ReadString(); break;
                case 9 when wire == ProtoReader.LengthDelimited: raw = r.ReadBytes().ToArray(); break;
                default: r.Skip(wire); break;
            }
        }
        if (dataType != FloatType) return null;
        float[] values;
        if (raw is not null)
        {
            if (raw.Length % 4 != 0) throw new InvalidDataException($"{path}: raw_data of '{name}' has {raw.Length} bytes, not a multiple of 4.");
            values = LittleEndianFloats(raw);
        }
        else values = floats.ToArray();
        var expected = dims.Aggregate(1L, (a, d) => a * d);
        if (values.Length != expected)
            throw new InvalidDataException($"{path}: initializer '{name}' has {values.Length} values but dims [{string.Join(", ", dims)}] need {expected}.");
        return new OnnxTensor(name, dims.ToArray(), values);
    }

    /// <summary>Protobuf's packed floats and ONNX raw_data are little-endian IEEE 754, whatever the host.</summary>
    private static float[] LittleEndianFloats(ReadOnlySpan<byte> bytes)
    {
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        if (!BitConverter.IsLittleEndian)
            for (int i = 0; i < values.Length; i++) values[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4));
        return values;
    }
}
