using System.Globalization;
using System.Xml.Linq;
using OpenCvSharp;

namespace Delta.Data.Voc;

/// <summary>Settings of the synthetic VOC generator. Sizes in pixels; fractions of <see cref="Count"/>.</summary>
public sealed record SyntheticVocOptions(
    int Count = 200,
    int Width = 160,
    int Height = 128,
    int Seed = 0,
    int MaxObjectsPerImage = 3,
    double ValFraction = 0.2,
    double TestFraction = 0.2,
    double DifficultProbability = 0.08,
    double TruncatedProbability = 0.15,
    bool WriteSegmentationObject = true)
{
    public void Validate()
    {
        if (Count < 4) throw new ArgumentException($"Count must be ≥ 4 (one image per split at least), got {Count}.");
        if (Width < 32 || Height < 32) throw new ArgumentException($"Image size must be ≥ 32x32, got {Width}x{Height}.");
        if (MaxObjectsPerImage < 1) throw new ArgumentException("MaxObjectsPerImage must be ≥ 1.");
        if (ValFraction < 0 || TestFraction < 0 || ValFraction + TestFraction >= 1) throw new ArgumentException("Val/Test fractions must be ≥ 0 and sum below 1.");
    }
}

/// <summary>
/// Writes a small dataset in exactly the PASCAL VOC layout, so code that reads it reads a real VOC folder unchanged:
/// VOCdevkit/VOC2007/{Annotations/*.xml, JPEGImages/*.jpg, ImageSets/Main/{train,val,trainval,test}.txt and
/// &lt;class&gt;_&lt;split&gt;.txt, ImageSets/Segmentation/{train,val,trainval}.txt, SegmentationClass/*.png (palette,
/// VOC colormap, 255 = void border), SegmentationObject/*.png}.
/// Each class has its own shape and colour (learnable); backgrounds are textured noise + stripes; objects have random
/// sizes, may overlap (IoU ≤ 0.4 between boxes), may run off the image (truncated) and some are flagged difficult.
/// Deterministic for a given seed.
/// </summary>
public static class SyntheticVocGenerator
{
    public enum Shape { Rectangle, Ellipse, Triangle, Cross, Frame, Diamond }

    /// <summary>The classes the generator draws: VOC name, shape and BGR colour.</summary>
    public static readonly IReadOnlyList<(string Name, Shape Shape, Scalar Bgr)> Classes =
    [
        ("aeroplane", Shape.Triangle, new Scalar(230, 160, 40)),
        ("bus", Shape.Rectangle, new Scalar(20, 220, 240)),
        ("cat", Shape.Ellipse, new Scalar(30, 120, 250)),
        ("person", Shape.Cross, new Scalar(200, 40, 200)),
        ("tvmonitor", Shape.Frame, new Scalar(60, 230, 60)),
        ("boat", Shape.Diamond, new Scalar(40, 40, 210)),
    ];

    public static readonly string[] MainSplits = ["train", "val", "trainval", "test"];

    /// <summary>Generates into &lt;root&gt;/VOCdevkit/VOC2007 and returns that VOC2007 folder.</summary>
    public static string Generate(string root, SyntheticVocOptions options)
    {
        options.Validate();
        var voc = Path.Combine(root, "VOCdevkit", "VOC2007");
        if (Directory.Exists(Path.Combine(voc, "Annotations")) && Directory.EnumerateFileSystemEntries(Path.Combine(voc, "Annotations")).Any())
            throw new IOException($"{voc}: already holds a VOC dataset; refusing to overwrite it (choose an empty folder).");
        foreach (var d in new[] { "Annotations", "JPEGImages", "ImageSets/Main", "ImageSets/Segmentation", "SegmentationClass", "SegmentationObject" })
            Directory.CreateDirectory(Path.Combine(voc, d));
        var rng = new Random(options.Seed);
        var ids = new List<string>();
        var objectsPerImage = new List<List<(int Label, bool Difficult)>>();
        for (int i = 0; i < options.Count; i++)
        {
            var id = (i + 1).ToString("D6", CultureInfo.InvariantCulture);
            ids.Add(id);
            objectsPerImage.Add(WriteImage(voc, id, options, rng));
        }
        // Split: a seeded shuffle so that every split sees every class.
        var order = Enumerable.Range(0, ids.Count).OrderBy(_ => rng.Next()).ToArray();
        int nTest = Math.Max(1, (int)Math.Round(options.TestFraction * ids.Count)), nVal = Math.Max(1, (int)Math.Round(options.ValFraction * ids.Count));
        var test = order.Take(nTest).Order().ToList();
        var val = order.Skip(nTest).Take(nVal).Order().ToList();
        var train = order.Skip(nTest + nVal).Order().ToList();
        var splits = new Dictionary<string, List<int>> { ["train"] = train, ["val"] = val, ["trainval"] = train.Concat(val).Order().ToList(), ["test"] = test };
        foreach (var (split, members) in splits)
        {
            File.WriteAllLines(Path.Combine(voc, "ImageSets", "Main", split + ".txt"), members.Select(i => ids[i]));
            // Per-class lists as in the devkit: 1 present, -1 absent, 0 only difficult instances.
            foreach (var name in VocClasses.Names)
            {
                int label = VocClasses.LabelOf(name);
                File.WriteAllLines(Path.Combine(voc, "ImageSets", "Main", $"{name}_{split}.txt"), members.Select(i =>
                {
                    var objs = objectsPerImage[i].Where(o => o.Label == label).ToList();
                    int flag = objs.Count == 0 ? -1 : objs.All(o => o.Difficult) ? 0 : 1;
                    return $"{ids[i]} {flag,2}";
                }));
            }
            if (split != "test") File.WriteAllLines(Path.Combine(voc, "ImageSets", "Segmentation", split + ".txt"), members.Select(i => ids[i]));
        }
        return voc;
    }

    private static List<(int, bool)> WriteImage(string voc, string id, SyntheticVocOptions o, Random rng)
    {
        int w = o.Width, h = o.Height;
        using var image = Background(w, h, rng);
        using var cls = new Mat(h, w, MatType.CV_8UC1, new Scalar(0));
        using var inst = new Mat(h, w, MatType.CV_8UC1, new Scalar(0));
        var placed = new List<(Rect Box, int Label, bool Truncated, bool Difficult, int ClassIndex)>();
        int want = rng.Next(1, o.MaxObjectsPerImage + 1);
        for (int attempt = 0; attempt < 40 && placed.Count < want; attempt++)
        {
            int ci = rng.Next(Classes.Count);
            int minSide = Math.Min(w, h);
            int bw = rng.Next(minSide / 5, minSide * 3 / 5 + 1), bh = (int)(bw * (0.6 + 0.8 * rng.NextDouble()));
            bh = Math.Clamp(bh, 8, h - 2);
            bool truncate = rng.NextDouble() < o.TruncatedProbability;
            int x0 = truncate ? rng.Next(-bw / 3, w - 2 * bw / 3) : rng.Next(0, Math.Max(1, w - bw));
            int y0 = truncate ? rng.Next(-bh / 3, h - 2 * bh / 3) : rng.Next(0, Math.Max(1, h - bh));
            var full = new Rect(x0, y0, bw, bh);
            var clipped = full & new Rect(0, 0, w, h);
            if (clipped.Width < 6 || clipped.Height < 6) continue;
            if (placed.Any(p => Iou(p.Box, clipped) > 0.4)) continue;
            bool difficult = rng.NextDouble() < o.DifficultProbability;
            placed.Add((clipped, VocClasses.LabelOf(Classes[ci].Name), clipped != full, difficult, ci));
            var colour = Jitter(Classes[ci].Bgr, rng, difficult ? 0.45 : 1.0);
            Draw(image, full, Classes[ci].Shape, colour, -1);
            int label = VocClasses.LabelOf(Classes[ci].Name);
            Draw(cls, full, Classes[ci].Shape, new Scalar(label), -1);
            Draw(inst, full, Classes[ci].Shape, new Scalar(placed.Count), -1);
            // VOC marks object boundaries as void (255): a thin band the metric ignores.
            Draw(cls, full, Classes[ci].Shape, new Scalar(VocClasses.Void), 2);
            Draw(inst, full, Classes[ci].Shape, new Scalar(VocClasses.Void), 2);
        }
        Cv2.ImWrite(Path.Combine(voc, "JPEGImages", id + ".jpg"), image, new ImageEncodingParam(ImwriteFlags.JpegQuality, 95));
        PalettePng.Write(Path.Combine(voc, "SegmentationClass", id + ".png"), MatBytes(cls), w, h, VocClasses.ColorMap);
        if (o.WriteSegmentationObject) PalettePng.Write(Path.Combine(voc, "SegmentationObject", id + ".png"), MatBytes(inst), w, h, VocClasses.ColorMap);
        WriteXml(Path.Combine(voc, "Annotations", id + ".xml"), id, w, h, placed.Select(p => (p.Box, Classes[p.ClassIndex].Name, p.Truncated, p.Difficult)));
        return placed.Select(p => (p.Label, p.Difficult)).ToList();
    }

    private static void WriteXml(string path, string id, int w, int h, IEnumerable<(Rect Box, string Name, bool Truncated, bool Difficult)> objects)
    {
        var doc = new XElement("annotation",
            new XElement("folder", "VOC2007"),
            new XElement("filename", id + ".jpg"),
            new XElement("source", new XElement("database", "Delta synthetic VOC")),
            new XElement("size", new XElement("width", w), new XElement("height", h), new XElement("depth", 3)),
            new XElement("segmented", 1),
            objects.Select(b => new XElement("object",
                new XElement("name", b.Name),
                new XElement("pose", "Unspecified"),
                new XElement("truncated", b.Truncated ? 1 : 0),
                new XElement("difficult", b.Difficult ? 1 : 0),
                // VOC boxes are 1-based and inclusive: 0-based pixel column x → x + 1.
                new XElement("bndbox",
                    new XElement("xmin", b.Box.X + 1), new XElement("ymin", b.Box.Y + 1),
                    new XElement("xmax", b.Box.X + b.Box.Width), new XElement("ymax", b.Box.Y + b.Box.Height)))));
        new XDocument(doc).Save(path);
    }

    private static Mat Background(int w, int h, Random rng)
    {
        var bg = new Mat(h, w, MatType.CV_8UC3);
        var baseColour = new Scalar(rng.Next(60, 180), rng.Next(60, 180), rng.Next(60, 180));
        bg.SetTo(baseColour);
        // Texture: stripes at a random angle plus per-pixel noise, so the detector cannot rely on flat backgrounds.
        int period = rng.Next(6, 20), thickness = rng.Next(1, 4);
        var stripe = new Scalar(baseColour.Val0 * 0.8, baseColour.Val1 * 0.8, baseColour.Val2 * 0.8);
        double angle = rng.NextDouble() * Math.PI;
        int reach = w + h;
        for (int k = -reach; k < reach; k += period)
        {
            var c = new Point(w / 2 + k * Math.Cos(angle + Math.PI / 2), h / 2 + k * Math.Sin(angle + Math.PI / 2));
            var d = new Point(reach * Math.Cos(angle), reach * Math.Sin(angle));
            Cv2.Line(bg, c - d, c + d, stripe, thickness);
        }
        // Noise from our own seeded Random (OpenCV's Randu uses a process-global RNG: not reproducible).
        var noiseBytes = new byte[h * w * 3];
        rng.NextBytes(noiseBytes);
        for (int i = 0; i < noiseBytes.Length; i++) noiseBytes[i] = (byte)(noiseBytes[i] % 41);
        using var noise = new Mat(h, w, MatType.CV_8UC3);
        System.Runtime.InteropServices.Marshal.Copy(noiseBytes, 0, noise.Data, noiseBytes.Length);
        Cv2.Add(bg, noise, bg);
        Cv2.Subtract(bg, new Scalar(20, 20, 20), bg);
        return bg;
    }

    private static Scalar Jitter(Scalar c, Random rng, double contrast) => new(
        Math.Clamp(c.Val0 * contrast + rng.Next(-25, 26), 0, 255),
        Math.Clamp(c.Val1 * contrast + rng.Next(-25, 26), 0, 255),
        Math.Clamp(c.Val2 * contrast + rng.Next(-25, 26), 0, 255));

    /// <summary>Draws a shape into its box; thickness -1 fills, otherwise outlines.</summary>
    private static void Draw(Mat m, Rect r, Shape shape, Scalar colour, int thickness)
    {
        int x1 = r.X, y1 = r.Y, x2 = r.X + r.Width - 1, y2 = r.Y + r.Height - 1, cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
        switch (shape)
        {
            case Shape.Rectangle: Cv2.Rectangle(m, new Point(x1, y1), new Point(x2, y2), colour, thickness); break;
            case Shape.Ellipse: Cv2.Ellipse(m, new Point(cx, cy), new Size(r.Width / 2, r.Height / 2), 0, 0, 360, colour, thickness); break;
            case Shape.Triangle: Poly(m, [new(cx, y1), new(x2, y2), new(x1, y2)], colour, thickness); break;
            case Shape.Diamond: Poly(m, [new(cx, y1), new(x2, cy), new(cx, y2), new(x1, cy)], colour, thickness); break;
            case Shape.Cross:
                int tw = Math.Max(2, r.Width / 3), th = Math.Max(2, r.Height / 3);
                Poly(m, [new(cx - tw / 2, y1), new(cx + tw / 2, y1), new(cx + tw / 2, cy - th / 2), new(x2, cy - th / 2), new(x2, cy + th / 2),
                    new(cx + tw / 2, cy + th / 2), new(cx + tw / 2, y2), new(cx - tw / 2, y2), new(cx - tw / 2, cy + th / 2), new(x1, cy + th / 2),
                    new(x1, cy - th / 2), new(cx - tw / 2, cy - th / 2)], colour, thickness);
                break;
            case Shape.Frame:
                int b = Math.Max(2, Math.Min(r.Width, r.Height) / 5);
                if (thickness < 0)
                {
                    Cv2.Rectangle(m, new Point(x1, y1), new Point(x2, y2), colour, -1);
                    if (m.Channels() == 3) Cv2.Rectangle(m, new Point(x1 + b, y1 + b), new Point(x2 - b, y2 - b), new Scalar(20, 20, 20), -1);
                }
                else Cv2.Rectangle(m, new Point(x1, y1), new Point(x2, y2), colour, thickness);
                break;
        }
    }

    private static void Poly(Mat m, Point[] pts, Scalar colour, int thickness)
    {
        if (thickness < 0) Cv2.FillPoly(m, [pts], colour);
        else Cv2.Polylines(m, [pts], true, colour, thickness);
    }

    private static double Iou(Rect a, Rect b)
    {
        var i = a & b;
        double inter = i.Width * (double)i.Height;
        return inter / (a.Width * (double)a.Height + b.Width * (double)b.Height - inter);
    }

    private static byte[] MatBytes(Mat m)
    {
        var bytes = new byte[m.Rows * m.Cols];
        System.Runtime.InteropServices.Marshal.Copy(m.Data, bytes, 0, bytes.Length);
        return bytes;
    }
}
