using OpenCvSharp;

namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>
/// Writes a small synthetic dataset in exactly the VOC segmentation layout (VOCdevkit/VOC2007/{JPEGImages,
/// SegmentationClass, ImageSets/Segmentation/{train,val,trainval}.txt}) so tests and demos run without real VOC:
/// noisy gradient backgrounds with one to three filled rectangles/ellipses, each class with its own colour,
/// and a 2-pixel void (255) outline around every object as VOC draws it. The shared generator of the detection
/// issue had not landed on main when this was written; this one only covers segmentation.
/// </summary>
public static class SyntheticVocSegmentation
{
    /// <summary>BGR colours of the object classes 1..; class c uses Colours[(c - 1) % n].</summary>
    private static readonly Scalar[] Colours =
    [
        new(40, 40, 220), new(40, 200, 40), new(220, 60, 40), new(30, 200, 230), new(200, 40, 200), new(200, 200, 40),
    ];

    /// <returns>The year folder (…/VOCdevkit/VOC2007).</returns>
    public static string Write(string root, int trainCount, int valCount, int size = 96, int numObjectClasses = 3, int seed = 0)
    {
        if (numObjectClasses is < 1 or > 20) throw new ArgumentException("numObjectClasses must be 1..20.");
        var year = Path.Combine(root, "VOCdevkit", "VOC2007");
        var images = Path.Combine(year, "JPEGImages");
        var labels = Path.Combine(year, "SegmentationClass");
        var sets = Path.Combine(year, "ImageSets", "Segmentation");
        foreach (var d in new[] { images, labels, sets }) Directory.CreateDirectory(d);
        var random = new Random(seed);
        var ids = Enumerable.Range(0, trainCount + valCount).Select(i => $"2007_{i:D6}").ToList();
        foreach (var id in ids)
        {
            using var image = Background(size, random);
            using var label = new Mat(size, size, MatType.CV_8UC1, new Scalar(0));
            int objects = random.Next(1, 4);
            for (int o = 0; o < objects; o++)
            {
                int cls = random.Next(1, numObjectClasses + 1);
                int w = random.Next(size / 5, size / 2), h = random.Next(size / 5, size / 2);
                int x = random.Next(0, size - w), y = random.Next(0, size - h);
                var colour = Jitter(Colours[(cls - 1) % Colours.Length], random);
                if (random.Next(2) == 0)
                {
                    var rect = new Rect(x, y, w, h);
                    Cv2.Rectangle(image, rect, colour, -1);
                    Cv2.Rectangle(label, rect, new Scalar(cls), -1);
                    Cv2.Rectangle(label, rect, new Scalar(VocPalette.Void), 2);
                }
                else
                {
                    var centre = new Point(x + w / 2, y + h / 2);
                    var axes = new Size(w / 2, h / 2);
                    Cv2.Ellipse(image, centre, axes, 0, 0, 360, colour, -1);
                    Cv2.Ellipse(label, centre, axes, 0, 0, 360, new Scalar(cls), -1);
                    Cv2.Ellipse(label, centre, axes, 0, 0, 360, new Scalar(VocPalette.Void), 2);
                }
            }
            Cv2.ImWrite(Path.Combine(images, id + ".jpg"), image, new ImageEncodingParam(ImwriteFlags.JpegQuality, 95));
            var indices = new byte[size * size];
            label.GetArray(out byte[] flat);
            flat.CopyTo(indices, 0);
            PalettePng.Write(Path.Combine(labels, id + ".png"), size, size, indices, VocPalette.Rgb);
        }
        File.WriteAllLines(Path.Combine(sets, "train.txt"), ids.Take(trainCount));
        File.WriteAllLines(Path.Combine(sets, "val.txt"), ids.Skip(trainCount));
        File.WriteAllLines(Path.Combine(sets, "trainval.txt"), ids);
        return year;
    }

    private static Mat Background(int size, Random random)
    {
        var baseColour = new Scalar(random.Next(90, 170), random.Next(90, 170), random.Next(90, 170));
        var image = new Mat(size, size, MatType.CV_8UC3, baseColour);
        using var noise = new Mat(size, size, MatType.CV_8UC3);
        Cv2.Randu(noise, new Scalar(0, 0, 0), new Scalar(40, 40, 40));
        Cv2.Add(image, noise, image);
        return image;
    }

    private static Scalar Jitter(Scalar c, Random random) =>
        new(Math.Clamp(c.Val0 + random.Next(-20, 21), 0, 255), Math.Clamp(c.Val1 + random.Next(-20, 21), 0, 255), Math.Clamp(c.Val2 + random.Next(-20, 21), 0, 255));
}
