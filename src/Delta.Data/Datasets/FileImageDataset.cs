using Delta.Data.Images;
using static TorchSharp.torch;

namespace Delta.Data.Datasets;

/// <summary>
/// Images on disk with labels: built by <see cref="ImageFolder"/> (one sub-folder per class) or
/// <see cref="CsvList"/> (path,label lines). Items are decoded on demand and resized to a fixed size, so
/// batches stack. Unreadable files fail naming the file, unless <see cref="SkipUnreadable"/> is on, in which
/// case they are dropped once, at construction time, and counted in <see cref="Skipped"/>.
/// </summary>
public sealed class FileImageDataset : IImageDataset
{
    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"];

    private readonly List<(string Path, int Label)> items;

    private FileImageDataset(string name, List<(string, int)> items, IReadOnlyList<string> classes, int size, bool skip)
    {
        Name = name; ClassNames = classes; Size = size;
        if (skip)
        {
            // Every file is decoded once, in parallel, so the skip decision is the same one Load would make.
            var readable = new bool[items.Count];
            Parallel.For(0, items.Count, i =>
            {
                try { using var probe = ImageCodec.ReadRgb(items[i].Item1); readable[i] = true; }
                catch (ImageDecodeException) { }
            });
            Skipped.AddRange(items.Where((_, i) => !readable[i]).Select(it => it.Item1));
            items = items.Where((_, i) => readable[i]).ToList();
        }
        this.items = items;
    }

    public string Name { get; }
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>Side length items are resized to (square).</summary>
    public int Size { get; }
    public List<string> Skipped { get; } = [];
    public int Count => items.Count;
    public int Label(int index) => items[index].Label;
    public string PathOf(int index) => items[index].Path;

    public Tensor Load(int index)
    {
        using var scope = NewDisposeScope();
        var rgb = ImageCodec.ReadRgb(items[index].Path);
        return nn.functional.interpolate(rgb.unsqueeze(0), [Size, Size], mode: InterpolationMode.Bilinear, align_corners: false)
            .squeeze(0).clamp_(0, 1).MoveToOuterDisposeScope();
    }

    public static FileImageDataset ImageFolder(string root, int size, bool skipUnreadable = false)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"ImageFolder root not found: {root}");
        var classes = Directory.GetDirectories(root).Select(Path.GetFileName).OrderBy(c => c, StringComparer.Ordinal).ToList();
        if (classes.Count == 0) throw new InvalidDataException($"{root}: no class sub-folders (ImageFolder layout: root/<class>/<image>).");
        var items = new List<(string, int)>();
        for (int c = 0; c < classes.Count; c++)
            foreach (var f in Directory.GetFiles(Path.Combine(root, classes[c]!)).OrderBy(f => f, StringComparer.Ordinal))
                if (ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())) items.Add((f, c));
        if (items.Count == 0) throw new InvalidDataException($"{root}: no images found in the class folders.");
        return new FileImageDataset(Path.GetFileName(root.TrimEnd('/')), items, classes!, size, skipUnreadable);
    }

    /// <summary>A CSV or TSV list "path,label" (header line optional; labels are class names or indices; paths relative to the list).</summary>
    public static FileImageDataset CsvList(string listPath, int size, bool skipUnreadable = false)
    {
        if (!File.Exists(listPath)) throw new FileNotFoundException($"List file not found: {listPath}", listPath);
        var dir = Path.GetDirectoryName(Path.GetFullPath(listPath))!;
        var sep = listPath.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
        var rows = new List<(string Path, string Label, int Line)>();
        var lineNo = 0;
        foreach (var line in File.ReadLines(listPath))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var parts = line.Split(sep);
            if (parts.Length < 2) throw new InvalidDataException($"{listPath}:{lineNo}: expected 'path{sep}label'.");
            var p = parts[0].Trim(); var l = parts[1].Trim();
            if (lineNo == 1 && (p.Equals("path", StringComparison.OrdinalIgnoreCase) || p.Equals("file", StringComparison.OrdinalIgnoreCase) || p.Equals("image", StringComparison.OrdinalIgnoreCase))) continue;
            rows.Add((Path.GetFullPath(Path.Combine(dir, p)), l, lineNo));
        }
        if (rows.Count == 0) throw new InvalidDataException($"{listPath}: no entries.");
        var allInts = rows.All(r => int.TryParse(r.Label, out var v) && v >= 0);
        var classes = allInts
            ? Enumerable.Range(0, rows.Max(r => int.Parse(r.Label)) + 1).Select(i => i.ToString()).ToList()
            : rows.Select(r => r.Label).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToList();
        var items = new List<(string, int)>();
        foreach (var r in rows)
        {
            if (!File.Exists(r.Path) && !skipUnreadable) throw new FileNotFoundException($"{listPath}:{r.Line}: image {r.Path} does not exist.", r.Path);
            items.Add((r.Path, allInts ? int.Parse(r.Label) : classes.IndexOf(r.Label)));
        }
        return new FileImageDataset(Path.GetFileNameWithoutExtension(listPath), items, classes, size, skipUnreadable);
    }
}
