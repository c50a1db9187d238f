using System.IO.Compression;
using System.Text;
using Delta.Data.Datasets;

namespace Delta.Data.Tests.Datasets;

/// <summary>SVHN files written byte by byte in MATLAB's level-5 layout (as MATLAB itself writes train_32x32.mat).</summary>
public class SvhnReaderTests
{
    private const int H = 32, W = 32;

    private static byte[] Tag(int type, int size) => [.. BitConverter.GetBytes(type), .. BitConverter.GetBytes(size)];
    private static byte[] Pad(byte[] data) => [.. data, .. new byte[(8 - data.Length % 8) % 8]];

    /// <summary>A miMATRIX element: flags (class), dims (miINT32), name (small element), real part stored as <paramref name="storedType"/>.</summary>
    private static byte[] Matrix(string name, int mxClass, int[] dims, int storedType, byte[] data)
    {
        var body = new List<byte>();
        body.AddRange(Tag(6, 8)); body.AddRange(BitConverter.GetBytes(mxClass)); body.AddRange(BitConverter.GetBytes(0));
        body.AddRange(Tag(5, 4 * dims.Length)); body.AddRange(Pad(dims.SelectMany(BitConverter.GetBytes).ToArray()));
        body.AddRange(BitConverter.GetBytes((name.Length << 16) | 1)); body.AddRange(Encoding.ASCII.GetBytes(name.PadRight(4, '\0')));   // small miINT8
        body.AddRange(Tag(storedType, data.Length)); body.AddRange(Pad(data));
        return [.. Tag(14, body.Count), .. body];
    }

    private static byte[] Compressed(byte[] element)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(element);
        return [.. Tag(15, (int)ms.Length), .. ms.ToArray()];
    }

    private static byte[] Header()
    {
        var text = Encoding.ASCII.GetBytes("MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Thu Dec  8 17:38:40 2011".PadRight(116));
        return [.. text, .. new byte[8], 0x00, 0x01, (byte)'I', (byte)'M'];
    }

    /// <summary>Pixel value of (row, col, channel, item) — distinct enough to catch any axis mix-up.</summary>
    private static byte Pixel(int r, int c, int ch, int n) => (byte)((r * 3 + c * 5 + ch * 70 + n * 11) % 256);

    private static byte[] SvhnFile(int[] labels, bool compress, bool yAsDouble = false)
    {
        int n = labels.Length;
        var x = new byte[H * W * 3 * n];
        for (int i = 0; i < n; i++) for (int ch = 0; ch < 3; ch++) for (int c = 0; c < W; c++) for (int r = 0; r < H; r++)
            x[r + H * (c + W * (ch + 3 * i))] = Pixel(r, c, ch, i);           // column-major [32, 32, 3, N]
        var xm = Matrix("X", 9, [H, W, 3, n], 2, x);
        var ym = yAsDouble
            ? Matrix("y", 6, [n, 1], 9, labels.SelectMany(l => BitConverter.GetBytes((double)l)).ToArray())
            : Matrix("y", 6, [n, 1], 2, labels.Select(l => (byte)l).ToArray());   // MATLAB stores small doubles as miUINT8
        return compress ? [.. Header(), .. Compressed(xm), .. Compressed(ym)] : [.. Header(), .. xm, .. ym];
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void HandWrittenMat_ReadsImagesAndMapsLabel10ToZero(bool compress, bool yAsDouble)
    {
        using var dir = new TempDir();
        var path = dir.File("test_32x32.mat");
        File.WriteAllBytes(path, SvhnFile([10, 3, 1], compress, yAsDouble));
        using var data = SvhnReader.Read(path);
        Assert.Equal(new[] { 0, 3, 1 }, data.Labels);
        Assert.Equal(new long[] { 3, 3, 32, 32 }, data.Images.shape);
        foreach (var (r, c, ch, i) in new[] { (0, 0, 0, 0), (5, 9, 1, 2), (31, 2, 2, 1), (7, 30, 0, 1) })
            Assert.Equal(Pixel(r, c, ch, i), data.Images[i, ch, r, c].item<byte>());
        using var item = data.Load(2);
        Assert.Equal(Pixel(5, 9, 1, 2) / 255f, item[1, 5, 9].item<float>(), 6);
    }

    [Fact]
    public void TruncatedFile_NamesFile()
    {
        using var dir = new TempDir();
        var path = dir.File("train_32x32.mat");
        var b = SvhnFile([1, 2], compress: false);
        File.WriteAllBytes(path, b[..(b.Length - 100)]);
        var e = Assert.Throws<InvalidDataException>(() => SvhnReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void CorruptZlib_NamesFile()
    {
        using var dir = new TempDir();
        var path = dir.File("c.mat");
        var b = SvhnFile([1, 2], compress: true);
        for (int i = 140; i < 200; i++) b[i] ^= 0x5a;
        File.WriteAllBytes(path, b);
        var e = Assert.Throws<InvalidDataException>(() => SvhnReader.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void NotAMatFile_AndMissingY_AreErrors()
    {
        using var dir = new TempDir();
        var text = dir.File("t.mat");
        File.WriteAllText(text, new string('a', 300));
        Assert.Contains("not a MATLAB level-5", Assert.Throws<InvalidDataException>(() => SvhnReader.Read(text)).Message);
        var onlyX = dir.File("x.mat");
        File.WriteAllBytes(onlyX, [.. Header(), .. Matrix("X", 9, [H, W, 3, 1], 2, new byte[H * W * 3])]);
        var e = Assert.Throws<InvalidDataException>(() => SvhnReader.Read(onlyX));
        Assert.Contains("no array 'y'", e.Message);
        Assert.Contains(onlyX, e.Message);
    }

    [Fact]
    public void BadLabel_NamesFileAndIndex()
    {
        using var dir = new TempDir();
        var path = dir.File("l.mat");
        File.WriteAllBytes(path, SvhnFile([1, 42], compress: true));
        Assert.Contains("y[1] = 42", Assert.Throws<InvalidDataException>(() => SvhnReader.Read(path)).Message);
    }
}
