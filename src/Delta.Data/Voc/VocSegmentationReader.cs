using OpenCvSharp;

namespace Delta.Data.Voc;

/// <summary>One segmentation sample: the JPEG and its label PNG (palette indices 0..20, 255 = void).</summary>
public sealed record VocSegmentationSample(string ImageId, string ImagePath, string MaskPath);

/// <summary>
/// Reads VOC semantic segmentation as users have it. The layout accepted, under one year folder (VOC2007, VOC2012):
/// <list type="bullet">
/// <item><c>ImageSets/Segmentation/&lt;split&gt;.txt</c> (train, val, trainval, …): one image id per line;
/// images in <c>JPEGImages/&lt;id&gt;.jpg</c>, masks in <c>SegmentationClass/&lt;id&gt;.png</c> (palette PNG, 255 = void).</item>
/// <item>The SBD-augmented train list, as the common DeepLab setups lay it out: <c>ImageSets/Segmentation/train_aug.txt</c>
/// with masks in <c>SegmentationClassAug/&lt;id&gt;.png</c> (8-bit greyscale or palette, same label values). Its lines are
/// either an id, or two paths relative to the year folder, "/JPEGImages/&lt;id&gt;.jpg /SegmentationClassAug/&lt;id&gt;.png"
/// (the list format of the TensorFlow DeepLab-ResNet setups).</item>
/// </list>
/// Every listed file is checked when the split is read; a broken entry is an error naming the missing file, the list
/// and the line.
/// </summary>
public static class VocSegmentationReader
{
    public const string TrainAug = "train_aug";
    public const string AugMaskFolder = "SegmentationClassAug";

    /// <summary>The year folder under <paramref name="root"/>: root itself when it holds ImageSets/Segmentation, else the one
    /// VOC20xx folder inside it (or inside root/VOCdevkit). Several years or none: an error naming the folder.</summary>
    public static string ResolveYearFolder(string root)
    {
        if (Directory.Exists(Path.Combine(root, "ImageSets", "Segmentation"))) return root;
        if (Directory.Exists(root))
        {
            var years = Directory.GetDirectories(root, "VOC*").Where(d => Directory.Exists(Path.Combine(d, "ImageSets", "Segmentation"))).Order().ToList();
            if (years.Count == 1) return years[0];
            if (years.Count > 1) throw new VocFormatException(root, $"holds several VOC years ({string.Join(", ", years.Select(Path.GetFileName))}); point the dataset at one of them.");
            var devkit = Path.Combine(root, "VOCdevkit");
            if (Directory.Exists(devkit)) return ResolveYearFolder(devkit);
        }
        throw new VocFormatException(root, "not a VOC segmentation folder (expected ImageSets/Segmentation, or VOCdevkit/VOC20xx holding it).");
    }

    public static string SplitListPath(string yearDir, string split) => Path.Combine(yearDir, "ImageSets", "Segmentation", split + ".txt");

    /// <summary>True when the SBD train_aug list is present in this VOC folder.</summary>
    public static bool HasTrainAug(string yearDir) => File.Exists(SplitListPath(yearDir, TrainAug));

    public static IReadOnlyList<VocSegmentationSample> ReadSplit(string yearDir, string split)
    {
        var list = SplitListPath(yearDir, split);
        if (!File.Exists(list))
        {
            var folder = Path.GetDirectoryName(list)!;
            var available = Directory.Exists(folder) ? string.Join(", ", Directory.GetFiles(folder, "*.txt").Select(Path.GetFileNameWithoutExtension).Order()) : "none";
            throw new VocFormatException(list, $"segmentation split '{split}' not found (available: {available}).");
        }
        var maskDir = Path.Combine(yearDir, split == TrainAug ? AugMaskFolder : "SegmentationClass");
        if (split == TrainAug && !Directory.Exists(maskDir))
            throw new VocFormatException(maskDir, $"the SBD list {TrainAug}.txt is present but its mask folder {AugMaskFolder}/ is missing.");
        var year = Path.GetFullPath(yearDir);
        var samples = new List<VocSegmentationSample>();
        var lines = File.ReadAllLines(list);
        for (int n = 1; n <= lines.Length; n++)
        {
            var fields = lines[n - 1].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0) continue;
            string where = $"listed on line {n} of {list}";
            string jpg, png;
            if (fields.Length == 1)
            {
                VocFileNames.RequirePlain(fields[0], list, $"line {n}: image id");
                jpg = Path.Combine(yearDir, "JPEGImages", fields[0] + ".jpg");
                png = Path.Combine(maskDir, fields[0] + ".png");
            }
            else if (fields.Length == 2)
            {
                jpg = InsideYear(year, fields[0], list, n);
                png = InsideYear(year, fields[1], list, n);
            }
            else throw new VocFormatException(list, $"line {n} has {fields.Length} fields; expected an image id, or an image path and a mask path.");
            if (!File.Exists(jpg)) throw new VocFormatException(jpg, $"image {where} does not exist.");
            if (!File.Exists(png)) throw new VocFormatException(png, $"mask {where} does not exist.");
            samples.Add(new VocSegmentationSample(Path.GetFileNameWithoutExtension(jpg), jpg, png));
        }
        if (samples.Count == 0) throw new VocFormatException(list, "split list is empty.");
        return samples;
    }

    /// <summary>A path from a two-column list: relative to the year folder (a leading '/' is the devkit convention), never outside it.</summary>
    private static string InsideYear(string year, string listed, string list, int line)
    {
        var full = Path.GetFullPath(Path.Combine(year, listed.TrimStart('/', '\\')));
        if (!full.StartsWith(year + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new VocFormatException(list, $"line {line}: '{listed}' points outside the VOC folder {year}.");
        return full;
    }

    /// <summary>
    /// Label indices of a mask, row-major [H*W], validated: values in 0..<paramref name="numClasses"/>−1 or 255 (void),
    /// size equal to the image's. Pass the image size when known to avoid decoding the JPEG again.
    /// </summary>
    public static (byte[] Labels, int Width, int Height) ReadMask(VocSegmentationSample sample, (int Width, int Height)? imageSize = null, int numClasses = 21)
    {
        if (numClasses is < 1 or > 255) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "1..255 classes (255 is void).");
        var (labels, w, h) = PalettePng.Read(sample.MaskPath);
        var (iw, ih) = imageSize ?? ImageSize(sample.ImagePath);
        if (iw != w || ih != h) throw new VocFormatException(sample.MaskPath, $"mask is {w}x{h} but image '{sample.ImagePath}' is {iw}x{ih}.");
        int first = labels.AsSpan().IndexOfAnyInRange((byte)numClasses, (byte)(VocClasses.Void - 1));
        if (first >= 0)
        {
            var bad = labels.Where(v => v >= numClasses && v != VocClasses.Void).Distinct().Order().Take(8);
            throw new VocFormatException(sample.MaskPath,
                $"label {labels[first]} at pixel ({first % w},{first / w}) is outside 0..{numClasses - 1} and not {VocClasses.Void} (void); values out of range: {string.Join(", ", bad)}.");
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
