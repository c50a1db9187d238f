using Delta.Data.Images;
using Delta.Data.Voc;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>
/// A VOC segmentation split as tensors. Layout, list formats (including the SBD "train_aug" list) and validation are
/// <see cref="VocSegmentationReader"/>'s: <paramref name="root"/> may be the year folder or a VOCdevkit holding one
/// year; a missing list, image or mask, an unreadable file, a mask of another size than its image, or a label outside
/// 0..numClasses−1/255 is a <see cref="VocFormatException"/> (an undecodable JPEG an <see cref="ImageDecodeException"/>)
/// naming the file.
/// </summary>
public sealed class VocSegmentationDataset
{
    public VocSegmentationDataset(string root, string split, int numClasses = 21)
    {
        Root = VocSegmentationReader.ResolveYearFolder(root);
        Split = split;
        NumClasses = numClasses;
        Samples = VocSegmentationReader.ReadSplit(Root, split);
    }

    public string Root { get; }
    public string Split { get; }
    public int NumClasses { get; }
    public IReadOnlyList<VocSegmentationSample> Samples { get; }
    public IReadOnlyList<string> Ids => Samples.Select(s => s.ImageId).ToList();
    public int Count => Samples.Count;

    public SegmentationSample Get(int index)
    {
        var sample = Samples[index];
        using var scope = NewDisposeScope();
        var image = ImageCodec.ReadRgb(sample.ImagePath);                            // float RGB [3, H, W]; ImageDecodeException names the file
        var (labels, w, h) = VocSegmentationReader.ReadMask(sample, ((int)image.shape[2], (int)image.shape[1]), NumClasses);
        var label = tensor(labels, [h, w]).to_type(ScalarType.Int64);              // [H, W]
        return new SegmentationSample(sample.ImageId, image.MoveToOuterDisposeScope(), label.MoveToOuterDisposeScope());
    }
}
