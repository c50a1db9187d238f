using OpenCvSharp;

namespace Delta.Data.Voc;

/// <summary>One segmentation sample: the JPEG and its label PNG (palette indices 0..20, 255 = void).</summary>
public sealed record VocSegmentationSample(string ImageId, string ImagePath, string MaskPath);

/// <summary>
/// Reads VOC semantic segmentation: ImageSets/Segmentation/&lt;split&gt;.txt, JPEGImages/&lt;id&gt;.jpg and
/// SegmentationClass/&lt;id&gt;.png. With the SBD augmentation ("train_aug": ImageSets/Segmentation/train_aug.txt
/// and SegmentationClassAug/) the masks come from SegmentationClassAug when that folder exists.
/// </summary>
public static class VocSegmentationReader
{
    public const string TrainAug = "train_aug";

    public static IReadOnlyList<VocSegmentationSample> ReadSplit(string yearDir, string split)
    {
        var ids = VocDetectionReader.ReadImageSet(yearDir, "Segmentation", split);
        var aug = Path.Combine(yearDir, "SegmentationClassAug");
        var maskDir = split == TrainAug && Directory.Exists(aug) ? aug : Path.Combine(yearDir, "SegmentationClass");
        var samples = new List<VocSegmentationSample>(ids.Count);
        foreach (var id in ids)
        {
            var jpg = Path.Combine(yearDir, "JPEGImages", id + ".jpg");
            var png = Path.Combine(maskDir, id + ".png");
            if (!File.Exists(jpg)) throw new VocFormatException(jpg, $"image listed in split '{split}' does not exist.");
            if (!File.Exists(png)) throw new VocFormatException(png, $"mask listed in split '{split}' does not exist.");
            samples.Add(new VocSegmentationSample(id, jpg, png));
        }
        return samples;
    }

    /// <summary>True when the SBD train_aug list is present in this VOC folder.</summary>
    public static bool HasTrainAug(string yearDir) => File.Exists(Path.Combine(yearDir, "ImageSets", "Segmentation", TrainAug + ".txt"));

    /// <summary>
    /// Label indices of a mask, row-major [H*W], validated: values in 0..20 or 255, size equal to the image's.
    /// Pass the image size when known to avoid decoding the JPEG again.
    /// </summary>
    public static (byte[] Labels, int Width, int Height) ReadMask(VocSegmentationSample sample, (int Width, int Height)? imageSize = null)
    {
        var (labels, w, h) = PalettePng.Read(sample.MaskPath);
        var (iw, ih) = imageSize ?? ImageSize(sample.ImagePath);
        if (iw != w || ih != h) throw new VocFormatException(sample.MaskPath, $"mask is {w}x{h} but image '{sample.ImagePath}' is {iw}x{ih}.");
        for (int i = 0; i < labels.Length; i++)
        {
            var v = labels[i];
            if (v > VocClasses.Names.Count && v != VocClasses.Void)
                throw new VocFormatException(sample.MaskPath, $"label {v} at pixel ({i % w},{i / w}) is outside 0..{VocClasses.Names.Count} and not {VocClasses.Void} (void).");
        }
        return (labels, w, h);
    }

    private static (int, int) ImageSize(string jpg)
    {
        using var m = Cv2.ImRead(jpg, ImreadModes.Unchanged);
        if (m.Empty()) throw new VocFormatException(jpg, "not a decodable image.");
        return (m.Width, m.Height);
    }
}
