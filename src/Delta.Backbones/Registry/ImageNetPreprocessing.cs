using Delta.Abstractions.Backbones;
using Delta.Backbones.Runtime;
using static TorchSharp.torch;

namespace Delta.Backbones.Registry;

/// <summary>torchvision's ImageNet normalisation: RGB in [0,1] ↦ (x − mean) / std per channel, with
/// mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225). Works on [3, H, W] and [N, 3, H, W].</summary>
public sealed class ImageNetPreprocessing : IInputPreprocessing
{
    public static ImageNetPreprocessing Instance { get; } = new();

    private static readonly float[] MeanRgb = { 0.485f, 0.456f, 0.406f };
    private static readonly float[] StdRgb = { 0.229f, 0.224f, 0.225f };
    // Static, after the arrays (static initialisers run in textual order; Instance above has no instance state).
    private static readonly DeviceConstants MeanOnDevice = new(MeanRgb), StdOnDevice = new(StdRgb);

    public string Description => "torchvision ImageNet: RGB [0,1], (x - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225] per channel";
    public IReadOnlyList<float> Mean => MeanRgb;
    public IReadOnlyList<float> Std => StdRgb;

    public Tensor Apply(Tensor rgb01)
    {
        var channelDim = rgb01.dim() switch
        {
            3 => 0,
            4 => 1,
            _ => throw new ArgumentException($"Expected [3, H, W] or [N, 3, H, W], got [{string.Join(", ", rgb01.shape)}]."),
        };
        if (rgb01.shape[channelDim] != 3)
            throw new ArgumentException($"Expected 3 RGB channels, got shape [{string.Join(", ", rgb01.shape)}].");
        using var scope = NewDisposeScope();
        var mean = MeanOnDevice.On(rgb01.dtype, rgb01.device).reshape(3, 1, 1);   // [3, 1, 1] broadcasts over H, W (and N)
        var std = StdOnDevice.On(rgb01.dtype, rgb01.device).reshape(3, 1, 1);
        return ((rgb01 - mean) / std).MoveToOuterDisposeScope();
    }
}
