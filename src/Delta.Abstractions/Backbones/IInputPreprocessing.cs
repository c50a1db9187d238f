using static TorchSharp.torch;

namespace Delta.Abstractions.Backbones;

/// <summary>
/// The input transform a backbone's weights expect, as a documented, testable step:
/// from RGB float in [0, 1], layout [N, 3, H, W] (or [3, H, W]) to what <see cref="IDeltaBackbone.Forward"/> takes.
/// For torchvision-style weights: (x − mean) / std per channel. Loaders apply it once, on the device.
/// </summary>
public interface IInputPreprocessing
{
    string Description { get; }
    IReadOnlyList<float> Mean { get; }
    IReadOnlyList<float> Std { get; }
    Tensor Apply(Tensor rgb01);
}
