using Delta.Data.Images;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>
/// VOC segmentation as users have it: <c>ImageSets/Segmentation/&lt;split&gt;.txt</c>, <c>JPEGImages/&lt;id&gt;.jpg</c>,
/// <c>SegmentationClass/&lt;id&gt;.png</c> (palette PNG, 255 = void). <paramref name="root"/> may be the year folder
/// (VOC2012), or a VOCdevkit folder holding exactly one year. With <c>SegmentationClassAug</c> present and a
/// split file "train_aug.txt" (the SBD-augmented list), that split reads its labels from there.
/// Errors name the file: missing lists/images/labels, unreadable PNGs, label size ≠ image size, labels outside 0–20/255.
/// </summary>
public sealed class VocSegmentationDataset
{
    public VocSegmentationDataset(string root, string split, int numClasses = 21)
    {
        Root = ResolveYearFolder(root);
        Split = split;
        NumClasses = numClasses;
        var list = Path.Combine(Root, "ImageSets", "Segmentation", split + ".txt");
        if (!File.Exists(list))
        {
            var dir = Path.GetDirectoryName(list)!;
            var available = Directory.Exists(dir) ? string.Join(", ", Directory.GetFiles(dir, "*.txt").Select(Path.GetFileNameWithoutExtension).Order()) : "none";
            throw new SegmentationDataException(list, $"split list not found (available splits: {available}).");
        }
        Ids = File.ReadAllLines(list).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (Ids.Count == 0) throw new SegmentationDataException(list, "split list is empty.");
        var aug = Path.Combine(Root, "SegmentationClassAug");
        LabelFolder = split.EndsWith("_aug", StringComparison.Ordinal) && Directory.Exists(aug) ? aug : Path.Combine(Root, "SegmentationClass");
    }

    public string Root { get; }
    public string Split { get; }
    public int NumClasses { get; }
    public IReadOnlyList<string> Ids { get; }
    public string LabelFolder { get; }
    public int Count => Ids.Count;

    public static string ResolveYearFolder(string root)
    {
        if (Directory.Exists(Path.Combine(root, "ImageSets", "Segmentation"))) return root;
        if (Directory.Exists(root))
        {
            var years = Directory.GetDirectories(root, "VOC*").Where(d => Directory.Exists(Path.Combine(d, "ImageSets", "Segmentation"))).Order().ToList();
            if (years.Count == 1) return years[0];
            if (years.Count > 1) throw new SegmentationDataException(root, $"holds several VOC years ({string.Join(", ", years.Select(Path.GetFileName))}); point the dataset at one of them.");
            var devkit = Path.Combine(root, "VOCdevkit");
            if (Directory.Exists(devkit)) return ResolveYearFolder(devkit);
        }
        throw new SegmentationDataException(root, "not a VOC segmentation folder (expected ImageSets/Segmentation, or VOCdevkit/VOC20xx holding it).");
    }

    public string ImagePath(string id) => Path.Combine(Root, "JPEGImages", id + ".jpg");
    public string LabelPath(string id) => Path.Combine(LabelFolder, id + ".png");

    public SegmentationSample Get(int index)
    {
        var id = Ids[index];
        var imagePath = ImagePath(id);
        if (!File.Exists(imagePath)) throw new SegmentationDataException(imagePath, $"image listed in {Split}.txt is missing.");
        var labelPath = LabelPath(id);
        if (!File.Exists(labelPath)) throw new SegmentationDataException(labelPath, $"label PNG listed in {Split}.txt is missing.");
        Tensor image;
        try { image = ImageCodec.ReadRgb(imagePath); }
        catch (ImageDecodeException e) { throw new SegmentationDataException(imagePath, e.Message); }
        using var scope = NewDisposeScope();
        image = image.MoveToOuterDisposeScope();   // keep ownership across this scope
        var label = ReadLabel(labelPath, NumClasses);
        if (label.shape[0] != image.shape[1] || label.shape[1] != image.shape[2])
            throw new SegmentationDataException(labelPath, $"label is {label.shape[1]}x{label.shape[0]} but its image {Path.GetFileName(imagePath)} is {image.shape[2]}x{image.shape[1]}.");
        return new SegmentationSample(id, image.MoveToOuterDisposeScope(), label.MoveToOuterDisposeScope());
    }

    /// <summary>Reads a label PNG to int64 [H, W], checking every value is a class (0..classes-1) or void (255).</summary>
    public static Tensor ReadLabel(string path, int numClasses)
    {
        var map = PalettePng.Read(path);
        var bad = map.Indices.Where(v => v >= numClasses && v != VocPalette.Void).Distinct().Order().Take(5).ToList();
        if (bad.Count > 0)
            throw new SegmentationDataException(path, $"label values outside 0–{numClasses - 1}/255: {string.Join(", ", bad)}.");
        return tensor(map.Indices, [map.Height, map.Width]).to_type(ScalarType.Int64);
    }
}
