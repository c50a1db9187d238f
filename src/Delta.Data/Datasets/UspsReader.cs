using System.Globalization;
using System.IO.Compression;
using ICSharpCode.SharpZipLib.BZip2;
using static TorchSharp.torch;

namespace Delta.Data.Datasets;

/// <summary>
/// USPS digits in the LIBSVM text format (<c>usps</c>, <c>usps.t</c>, plain, .bz2 or .gz): one digit per line,
/// "label idx:value ..." with label 1..10 meaning digit label−1 and 256 features (16x16, row-major) in [−1, 1].
/// Pixels map to [0, 1] as (v + 1) / 2, as torchvision's USPS does; a feature absent from a sparse line is 0 (LIBSVM's rule).
/// </summary>
public static class UspsReader
{
    public const int Side = 16;

    public static TensorImageDataset Read(string path, string? name = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"USPS file not found: {path}", path);
        var pixels = new List<float>();
        var labels = new List<int>();
        var row = new float[Side * Side];
        int lineNo = 0;
        try
        {
            using var reader = new StreamReader(OpenMaybeCompressed(path));
            for (string? line; (line = reader.ReadLine()) is not null;)
            {
                lineNo++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (!double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var label) || label != Math.Floor(label) || label < 1 || label > 10)
                    throw new InvalidDataException($"{path}:{lineNo}: label '{parts[0]}' is not an integer 1..10 (LIBSVM USPS labels are digit+1).");
                Array.Fill(row, 0f);
                int previous = 0;
                for (int p = 1; p < parts.Length; p++)
                {
                    var colon = parts[p].IndexOf(':');
                    if (colon <= 0 || !int.TryParse(parts[p].AsSpan(0, colon), NumberStyles.Integer, CultureInfo.InvariantCulture, out var idx)
                        || !float.TryParse(parts[p].AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                        throw new InvalidDataException($"{path}:{lineNo}: '{parts[p]}' is not an 'index:value' pair.");
                    if (idx < 1 || idx > Side * Side || idx <= previous)
                        throw new InvalidDataException($"{path}:{lineNo}: feature index {idx} is outside 1..{Side * Side} or not increasing.");
                    if (!float.IsFinite(v) || v < -1.0001f || v > 1.0001f)
                        throw new InvalidDataException($"{path}:{lineNo}: feature {idx} = {v} is outside [-1, 1].");
                    row[idx - 1] = v;
                    previous = idx;
                }
                foreach (var v in row) pixels.Add(Math.Clamp((v + 1f) / 2f, 0f, 1f));
                labels.Add((int)label - 1);
            }
        }
        catch (Exception e) when (e is IOException or ICSharpCode.SharpZipLib.SharpZipBaseException || (e is InvalidDataException && !e.Message.StartsWith(path, StringComparison.Ordinal)))
        { throw new InvalidDataException($"{path}: corrupt or truncated compressed stream ({e.Message}).", e); }
        if (labels.Count == 0) throw new InvalidDataException($"{path}: no digits (empty file).");
        var images = tensor(pixels.ToArray(), dtype: ScalarType.Float32).reshape(labels.Count, 1, Side, Side);
        return new TensorImageDataset(name ?? Path.GetFileName(path), images, labels.ToArray(), DigitReaders.Digits);
    }

    /// <summary>Opens a file, decompressing bzip2 ("BZh") or gzip (1f 8b) by its magic bytes.</summary>
    internal static Stream OpenMaybeCompressed(string path)
    {
        var file = File.OpenRead(path);
        try
        {
            Span<byte> magic = stackalloc byte[3];
            var n = file.Read(magic);
            file.Position = 0;
            if (n == 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') return new BZip2InputStream(file);
            if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return new GZipStream(file, CompressionMode.Decompress);
            return file;
        }
        catch { file.Dispose(); throw; }
    }
}
