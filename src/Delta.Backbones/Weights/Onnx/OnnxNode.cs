namespace Delta.Backbones.Weights.Onnx;

/// <summary>A graph node (NodeProto): operator type, inputs and outputs by name.</summary>
public sealed record OnnxNode(string OpType, string Name, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);
