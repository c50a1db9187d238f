using System.Globalization;
using System.Text;
using Delta.Data.Datasets;
using ICSharpCode.SharpZipLib.BZip2;

namespace Delta.Data.Tests.Datasets;

public class UspsReaderTests
{
    /// <summary>LIBSVM USPS lines: "label 1:v1 2:v2 ... 256:v256", label = digit + 1, values in [−1, 1].</summary>
    private static string Line(int digit, Func<int, double> value, bool sparseZeros = false)
    {
        var sb = new StringBuilder((digit + 1).ToString(CultureInfo.InvariantCulture));
        for (int i = 1; i <= 256; i++)
        {
            var v = value(i - 1);
            if (sparseZeros && v == 0) continue;
            sb.Append(' ').Append(i).Append(':').Append(v.ToString("R", CultureInfo.InvariantCulture));
        }
        return sb.Append(' ').ToString();          // the real files end lines with a space
    }

    private static string Content() =>
        Line(9, i => -1 + 2.0 * i / 255) + "\n" + Line(0, i => i == 17 ? 1 : -1) + "\n" + Line(4, i => i % 2 == 0 ? 0 : 0.5, sparseZeros: true) + "\n";

    [Theory]
    [InlineData("plain")]
    [InlineData("bz2")]
    public void HandWrittenFile_ReadsLabelsAndPixels(string kind)
    {
        using var dir = new TempDir();
        var path = dir.File(kind == "bz2" ? "usps.t.bz2" : "usps.t");
        if (kind == "plain") File.WriteAllText(path, Content());
        else
        {
            using var f = File.Create(path);
            using var bz = new BZip2OutputStream(f);
            bz.Write(Encoding.ASCII.GetBytes(Content()));
        }
        using var data = UspsReader.Read(path);
        Assert.Equal(new[] { 9, 0, 4 }, data.Labels);
        Assert.Equal(new long[] { 3, 1, 16, 16 }, data.Images.shape);
        Assert.Equal(0f, data.Images[0, 0, 0, 0].item<float>(), 6);              // −1 → 0
        Assert.Equal(1f, data.Images[0, 0, 15, 15].item<float>(), 6);            // +1 → 1
        Assert.Equal(1f, data.Images[1, 0, 1, 1].item<float>(), 6);              // feature 18 = row 1, column 1
        Assert.Equal(0.5f, data.Images[2, 0, 0, 0].item<float>(), 6);            // absent feature = 0 → 0.5
        Assert.Equal(0.75f, data.Images[2, 0, 0, 1].item<float>(), 6);
    }

    [Theory]
    [InlineData("0 1:0.5", "label '0'")]
    [InlineData("11 1:0.5", "label '11'")]
    [InlineData("3 1:0.5 x", "'x' is not an 'index:value' pair")]
    [InlineData("3 257:0.5", "feature index 257")]
    [InlineData("3 1:7", "outside [-1, 1]")]
    public void BadLine_NamesFileAndLine(string badLine, string problem)
    {
        using var dir = new TempDir();
        var path = dir.File("usps");
        File.WriteAllText(path, Line(1, _ => 0) + "\n" + badLine + "\n");
        var e = Assert.Throws<InvalidDataException>(() => UspsReader.Read(path));
        Assert.Contains($"{path}:2:", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void TruncatedBz2_NamesFile()
    {
        using var dir = new TempDir();
        var path = dir.File("usps.bz2");
        using (var f = File.Create(path))
        using (var bz = new BZip2OutputStream(f)) bz.Write(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(Content(), 20))));
        var b = File.ReadAllBytes(path);
        File.WriteAllBytes(path, b[..(b.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => UspsReader.Read(path));
        Assert.Contains(path, e.Message);
    }
}
