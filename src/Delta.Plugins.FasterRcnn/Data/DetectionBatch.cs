using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Data;

/// <summary>
/// A padded batch: images [N, 3, H, W] (preprocessed, zero-padded at the bottom/right to a multiple of 32), each image's
/// unpadded size, ground truth boxes [G_i, 4] xyxy in input pixels (difficult objects left out for training), labels
/// [G_i] (1-based VOC classes), and the resize factor from the original image.
/// </summary>
public sealed class DetectionBatch(Tensor images, IReadOnlyList<(int H, int W)> sizes, IReadOnlyList<Tensor> boxes,
    IReadOnlyList<Tensor> labels, IReadOnlyList<double> scales, IReadOnlyList<string> ids) : IDisposable
{
    public Tensor Images => images;
    public IReadOnlyList<(int H, int W)> Sizes => sizes;
    public IReadOnlyList<Tensor> Boxes => boxes;
    public IReadOnlyList<Tensor> Labels => labels;
    public IReadOnlyList<double> Scales => scales;
    public IReadOnlyList<string> ImageIds => ids;

    public void Dispose()
    {
        images.Dispose();
        foreach (var b in boxes) b.Dispose();
        foreach (var l in labels) l.Dispose();
    }
}
