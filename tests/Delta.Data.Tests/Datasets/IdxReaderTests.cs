using System.IO.Compression;
using Delta.Data.Datasets;

namespace Delta.Data.Tests.Datasets;

public class IdxReaderTests
{
    private static byte[] Idx(byte type, params int[] dims)
    {
        var header = new List<byte> { 0, 0, type, (byte)dims.Length };
        foreach (var d in dims) header.AddRange(BitConverter.GetBytes(d).Reverse());
        return header.ToArray();
    }

    private static void Write(string path, byte[] bytes, bool gzip)
    {
        if (!gzip) { File.WriteAllBytes(path, bytes); return; }
        using var f = File.Create(path);
        using var z = new GZipStream(f, CompressionLevel.Fastest);
        z.Write(bytes);
    }

    private static (string Folder, byte[] Pixels) WriteSet(TempDir dir, bool gzip, int n = 3, byte[]? labels = null)
    {
        var pixels = Enumerable.Range(0, n * 2 * 3).Select(i => (byte)(i * 7)).ToArray();
        var ext = gzip ? ".gz" : "";
        Write(dir.File("t10k-images-idx3-ubyte" + ext), [.. Idx(8, n, 2, 3), .. pixels], gzip);
        labels ??= Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        Write(dir.File("t10k-labels-idx1-ubyte" + ext), [.. Idx(8, labels.Length), .. labels], gzip);
        return (dir.Path, pixels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HandWrittenIdx_ReadsPixelsAndLabels(bool gzip)
    {
        using var dir = new TempDir();
        var (folder, pixels) = WriteSet(dir, gzip);
        using var data = DigitReaders.Idx(folder, train: false, DigitReaders.Digits);
        Assert.Equal(3, data.Count);
        Assert.Equal(new[] { 0, 1, 2 }, data.Labels);
        Assert.Equal(new long[] { 3, 1, 2, 3 }, data.Images.shape);
        // item 1, row 1, column 2 = byte index 6 + 3 + 2 = 11 → 77
        Assert.Equal(pixels[11] / 255f, data.Images[1, 0, 1, 2].item<float>(), 6);
    }

    [Fact]
    public void WrongMagic_NamesFile()
    {
        using var dir = new TempDir();
        var path = dir.File("x-idx3-ubyte");
        File.WriteAllBytes(path, [0x12, 0x34, 8, 3, 0, 0, 0, 0]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void WrongDimensionCount_NamesFile()
    {
        using var dir = new TempDir();
        var path = dir.File("labels-as-images");
        File.WriteAllBytes(path, [.. Idx(8, 2), 1, 2]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_NamesFileAndSizes(bool gzip)
    {
        using var dir = new TempDir();
        var path = dir.File("trunc");
        Write(path, [.. Idx(8, 4, 2, 2), 1, 2, 3], gzip);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("16 bytes", e.Message);
    }

    [Fact]
    public void CorruptGzip_NamesFile()
    {
        using var dir = new TempDir();
        var path = dir.File("bad.gz");
        Write(path, [.. Idx(8, 4, 2, 2), .. new byte[16]], gzip: true);
        var b = File.ReadAllBytes(path);
        File.WriteAllBytes(path, b[..(b.Length - 12)]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void LabelOutOfRange_NamesFileAndItem()
    {
        using var dir = new TempDir();
        WriteSet(dir, gzip: false, labels: [1, 12, 3]);
        var e = Assert.Throws<InvalidDataException>(() => DigitReaders.Idx(dir.Path, train: false, DigitReaders.Digits));
        Assert.Contains("t10k-labels-idx1-ubyte", e.Message);
        Assert.Contains("label 12 at item 1", e.Message);
    }

    [Fact]
    public void CountMismatch_IsAnError()
    {
        using var dir = new TempDir();
        WriteSet(dir, gzip: false, labels: [1, 2]);
        var e = Assert.Throws<InvalidDataException>(() => DigitReaders.Idx(dir.Path, train: false, DigitReaders.Digits));
        Assert.Contains("3 images but 2 labels", e.Message);
    }
}
