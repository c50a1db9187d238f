using Delta.Abstractions.Backbones;
using Delta.Backbones.Runtime;
using static TorchSharp.torch;

namespace Delta.Backbones.Weights.Cntk;

/// <summary>
/// The input transform the CNTK ResNet-18 weights expect, as ResNetPreprocess.onnx defines it: RGB in 0–255,
/// reordered to BGR, minus a per-pixel ImageNet mean image (no division by a std). From Delta's RGB [0,1]:
/// x ↦ flip_channels(255·x) − M. At 224x224, M is the mean image itself (exact); at other sizes M is its
/// per-channel mean (B 103.06, G 115.90, R 123.15 — the image varies only a few units across pixels).
/// </summary>
public sealed class CntkResNetPreprocessing : IInputPreprocessing
{
    private readonly float[] meanImageBgr;     // [3, 224, 224] row-major, B, G, R planes
    private readonly float[] channelMeanBgr;
    private readonly DeviceConstants meanImageOnDevice, channelMeanOnDevice;
    public const int MeanImageSize = 224;

    public CntkResNetPreprocessing(float[] meanImageBgr)
    {
        if (meanImageBgr.Length != 3 * MeanImageSize * MeanImageSize)
            throw new ArgumentException($"Mean image must have 3x{MeanImageSize}x{MeanImageSize} values, got {meanImageBgr.Length}.");
        this.meanImageBgr = meanImageBgr;
        var plane = MeanImageSize * MeanImageSize;
        channelMeanBgr = Enumerable.Range(0, 3).Select(c => (float)meanImageBgr.AsSpan(c * plane, plane).ToArray().Average()).ToArray();
        meanImageOnDevice = new(meanImageBgr);
        channelMeanOnDevice = new(channelMeanBgr);
    }

    public string Description => "CNTK ResNet: RGB [0,1] → ×255, RGB→BGR, minus the ImageNet mean image (exact at 224x224, per-channel mean elsewhere); no std";
    /// <summary>Per-channel means in RGB order and [0,1] units, for code that needs a fill value.</summary>
    public IReadOnlyList<float> Mean => [channelMeanBgr[2] / 255f, channelMeanBgr[1] / 255f, channelMeanBgr[0] / 255f];
    public IReadOnlyList<float> Std => [1 / 255f, 1 / 255f, 1 / 255f];
    public IReadOnlyList<float> ChannelMeanBgr => channelMeanBgr;

    public Tensor Apply(Tensor rgb01)
    {
        var batched = rgb01.dim() == 4;
        if (!batched && rgb01.dim() != 3 || rgb01.shape[batched ? 1 : 0] != 3)
            throw new ArgumentException($"Expected [3, H, W] or [N, 3, H, W] RGB, got [{string.Join(", ", rgb01.shape)}].");
        using var scope = NewDisposeScope();
        var x = batched ? rgb01 : rgb01.unsqueeze(0);
        var bgr = x.flip(1) * 255f;                                                          // [N, 3, H, W], B, G, R
        var (h, w) = (x.shape[2], x.shape[3]);
        var mean = h == MeanImageSize && w == MeanImageSize
            ? meanImageOnDevice.On(x.dtype, x.device).reshape(1, 3, h, w)
            : channelMeanOnDevice.On(x.dtype, x.device).reshape(1, 3, 1, 1);
        var y = bgr - mean;
        return (batched ? y : y.squeeze(0)).MoveToOuterDisposeScope();
    }
}
