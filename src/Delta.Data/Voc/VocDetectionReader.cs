using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace Delta.Data.Voc;

/// <summary>What to do with an annotation that breaks the format (malformed XML, missing image, bad box, unknown class).</summary>
public enum VocInvalidPolicy { Throw, SkipAndCount }

/// <summary>The result of reading one or more VOC splits; <see cref="Skipped"/> lists what SkipAndCount left out and why.</summary>
public sealed record VocDetectionSet(IReadOnlyList<VocAnnotation> Images, IReadOnlyList<string> Skipped);

/// <summary>
/// Reads PASCAL VOC detection annotations: VOCdevkit/VOC20xx/{Annotations/*.xml, JPEGImages/*.jpg, ImageSets/Main/&lt;split&gt;.txt}.
/// Several (year folder, split) pairs are concatenated, which gives the usual "07+12" trainval.
/// </summary>
public static class VocDetectionReader
{
    /// <summary>Reads e.g. (".../VOC2007", "trainval") and (".../VOC2012", "trainval").</summary>
    public static VocDetectionSet Read(IEnumerable<(string YearDir, string Split)> parts, VocInvalidPolicy policy = VocInvalidPolicy.Throw)
    {
        var images = new List<VocAnnotation>();
        var skipped = new List<string>();
        foreach (var (yearDir, split) in parts)
            foreach (var id in ReadImageSet(yearDir, "Main", split))
            {
                var xml = Path.Combine(yearDir, "Annotations", id + ".xml");
                try { images.Add(ReadAnnotation(xml, Path.Combine(yearDir, "JPEGImages"))); }
                catch (VocFormatException e) when (policy == VocInvalidPolicy.SkipAndCount) { skipped.Add(e.Message); }
            }
        return new VocDetectionSet(images, skipped);
    }

    public static VocDetectionSet Read(string yearDir, string split, VocInvalidPolicy policy = VocInvalidPolicy.Throw) => Read([(yearDir, split)], policy);

    /// <summary>Image ids listed in ImageSets/&lt;kind&gt;/&lt;split&gt;.txt (one per line; per-class lists carry a second column).</summary>
    public static IReadOnlyList<string> ReadImageSet(string yearDir, string kind, string split)
    {
        var path = Path.Combine(yearDir, "ImageSets", kind, split + ".txt");
        if (!File.Exists(path)) throw new VocFormatException(path, $"image set '{split}' not found (is '{yearDir}' a VOC20xx folder?).");
        return File.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]).ToList();
    }

    /// <summary>Parses one annotation file and checks it against its JPEG's existence (the image's real size is checked
    /// where it is decoded: <see cref="CheckDecodedSize"/>).</summary>
    public static VocAnnotation ReadAnnotation(string xmlPath, string jpegDir)
    {
        XElement root;
        try { root = XDocument.Load(xmlPath).Root ?? throw new VocFormatException(xmlPath, "empty XML document."); }
        catch (FileNotFoundException) { throw new VocFormatException(xmlPath, "annotation file is missing."); }
        catch (DirectoryNotFoundException) { throw new VocFormatException(xmlPath, "annotation file is missing."); }
        catch (XmlException e) { throw new VocFormatException(xmlPath, $"malformed XML ({e.Message})."); }
        // A folder in its place, no read permission, an I/O error: still this file's problem, so named (and skippable).
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        { throw new VocFormatException(xmlPath, Directory.Exists(xmlPath) ? "annotation file cannot be read: it is a folder." : $"annotation file cannot be read ({e.Message})."); }
        var fileName = VocFileNames.RequirePlain(Text(root, "filename", xmlPath).Trim(), xmlPath, "<filename>");
        var imagePath = Path.Combine(jpegDir, fileName);
        if (!File.Exists(imagePath)) throw new VocFormatException(xmlPath, $"image '{imagePath}' does not exist.");
        var size = root.Element("size") ?? throw new VocFormatException(xmlPath, "missing <size>.");
        int width = Int(size, "width", xmlPath), height = Int(size, "height", xmlPath);
        if (width <= 0 || height <= 0) throw new VocFormatException(xmlPath, $"invalid image size {width}x{height}.");
        var objects = new List<VocObject>();
        foreach (var o in root.Elements("object"))
        {
            var name = Text(o, "name", xmlPath).Trim();
            int label = VocClasses.LabelOf(name);
            if (label < 0) throw new VocFormatException(xmlPath, $"unknown class '{name}' (expected one of the 20 VOC classes: {string.Join(", ", VocClasses.Names)}).");
            var bb = o.Element("bndbox") ?? throw new VocFormatException(xmlPath, $"object '{name}' has no <bndbox>.");
            int x1 = Int(bb, "xmin", xmlPath), y1 = Int(bb, "ymin", xmlPath), x2 = Int(bb, "xmax", xmlPath), y2 = Int(bb, "ymax", xmlPath);
            if (x2 < x1 || y2 < y1) throw new VocFormatException(xmlPath, $"object '{name}' has a box of zero or negative area ({x1},{y1},{x2},{y2}).");
            if (x1 < 1 || y1 < 1 || x2 > width || y2 > height)
                throw new VocFormatException(xmlPath, $"object '{name}' box ({x1},{y1},{x2},{y2}) lies outside the {width}x{height} image (VOC boxes are 1-based).");
            objects.Add(new VocObject(name, label, o.Element("pose")?.Value ?? "Unspecified",
                Flag(o, "truncated"), Flag(o, "difficult"), x1, y1, x2, y2));
        }
        return new VocAnnotation(Path.GetFileNameWithoutExtension(xmlPath), imagePath, width, height, objects);
    }

    /// <summary>Refuses an image whose decoded size is not its annotation's &lt;size&gt;: its boxes were drawn on another
    /// picture (a resized or rotated JPEG) and would land elsewhere, silently.</summary>
    public static void CheckDecodedSize(VocAnnotation a, long height, long width)
    {
        if (height != a.Height || width != a.Width)
            throw new VocFormatException(a.ImagePath, $"the image is {width}x{height}, but its annotation ({a.ImageId}.xml) gives <size> {a.Width}x{a.Height}: its boxes belong to another version of the picture.");
    }

    private static string Text(XElement e, string name, string path) =>
        e.Element(name)?.Value ?? throw new VocFormatException(path, $"missing <{name}> in <{e.Name}>.");

    // Real VOC files sometimes write coordinates as "273.0"; accept any number that is integral after rounding.
    private static int Int(XElement e, string name, string path)
    {
        var s = Text(e, name, path);
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new VocFormatException(path, $"<{name}> is not a number: '{s}'.");
        return (int)Math.Round(v);
    }

    private static bool Flag(XElement o, string name) => o.Element(name)?.Value.Trim() == "1";
}
