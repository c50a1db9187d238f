using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Model;

/// <summary>Logits at input resolution, [N, classes, H, W]; <see cref="AuxLogits"/> only when the auxiliary head is on and asked for.</summary>
public sealed record SegmentationOutput(Tensor Logits, Tensor? AuxLogits);
