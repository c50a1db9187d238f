using Delta.Abstractions.Backbones;
using TorchSharp;

namespace Delta.Plugins.DeepLabV3.Training;

/// <summary>The backbone a mode needs, as one registry request: the single place where a mode turns into
/// "which Δ config" and "shared frozen base or private trainable copy" (train and patch loading both come here).</summary>
public static class SegmentationBackboneRequest
{
    public static BackboneRequest For(SegmentationTrainingMode mode, string architecture, string weights, DeltaConfig delta,
        int outputStride, torch.Device device, long seed) => mode switch
    {
        SegmentationTrainingMode.Delta when delta.Stages < 1 => throw new Delta.Abstractions.InputException(
            $"DeepLab-V3 mode 'delta' needs delta.stages ≥ 1 (got {delta.Stages}); for the frozen base without Δ use options.mode = \"frozen\"."),
        SegmentationTrainingMode.Delta => Request(architecture, weights, delta, outputStride, device, seed, trainableBase: false),
        SegmentationTrainingMode.Frozen => Request(architecture, weights, DeltaConfig.None, outputStride, device, seed, trainableBase: false),
        SegmentationTrainingMode.FineTune => Request(architecture, weights, DeltaConfig.None, outputStride, device, seed, trainableBase: true),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    private static BackboneRequest Request(string architecture, string weights, DeltaConfig delta, int outputStride, torch.Device device, long seed, bool trainableBase) => new()
    {
        Architecture = architecture, Weights = weights, Delta = delta, Device = device, OutputStride = outputStride, Seed = seed, TrainableBase = trainableBase,
    };
}
