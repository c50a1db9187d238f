namespace Delta.Backbones.Weights.Onnx;

/// <summary>An ONNX initializer (TensorProto) decoded to float32: name, dims, values in row-major order.</summary>
public sealed record OnnxTensor(string Name, long[] Dims, float[] Values);
