using Delta.Data.Voc;
using OpenCvSharp;

namespace Delta.Data.Tests.Voc;

public sealed class PalettePngTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-png-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void PalettePng_RoundTrips_Indices_And_OpenCv_Sees_The_Voc_Colours()
    {
        var idx = new byte[7 * 5];
        for (int i = 0; i < idx.Length; i++) idx[i] = (byte)(i % 21);
        idx[3] = 255;
        var path = Path.Combine(dir, "p.png");
        PalettePng.Write(path, idx, 7, 5, VocClasses.ColorMap);
        var (back, w, h) = PalettePng.Read(path);
        Assert.Equal((7, 5), (w, h));
        Assert.Equal(idx, back);
        using var bgr = Cv2.ImRead(path, ImreadModes.Color); // an independent decoder maps indices to palette colours
        var c = bgr.At<Vec3b>(0, 1); // index 1 = aeroplane = (128, 0, 0) RGB
        Assert.Equal((0, 0, 128), (c.Item0, c.Item1, c.Item2));
        var p = bgr.At<Vec3b>(2, 1); // index 15 = person = (192, 128, 128) RGB
        Assert.Equal((128, 128, 192), (p.Item0, p.Item1, p.Item2));
        var v = bgr.At<Vec3b>(0, 3); // 255 = void = (224, 224, 192) RGB
        Assert.Equal((192, 224, 224), (v.Item0, v.Item1, v.Item2));
    }

    [Fact]
    public void PalettePng_Reads_Filtered_Greyscale_Written_By_OpenCv()
    {
        using var m = new Mat(9, 11, MatType.CV_8UC1);
        Cv2.Randu(m, new Scalar(0), new Scalar(255));
        var path = Path.Combine(dir, "g.png");
        Cv2.ImWrite(path, m); // libpng chooses filters per row (Sub/Up/Paeth), exercising the unfilter code
        var (back, _, _) = PalettePng.Read(path);
        var expected = new byte[99];
        System.Runtime.InteropServices.Marshal.Copy(m.Data, expected, 0, 99);
        Assert.Equal(expected, back);
    }

    [Theory]
    [InlineData("crc", "CRC mismatch in PNG chunk IHDR")]
    [InlineData("text", "not a PNG file")]
    [InlineData("truncated", "truncated")]
    [InlineData("colour", "colour type 2")]
    [InlineData("missing", "cannot be read")]
    public void PalettePng_Bad_Files_Give_Errors_Naming_The_File(string breakage, string expected)
    {
        var good = Path.Combine(dir, "good.png");
        PalettePng.Write(good, new byte[16], 4, 4, VocClasses.ColorMap);
        var path = Path.Combine(dir, "bad.png");
        switch (breakage)
        {
            case "crc": var bytes = File.ReadAllBytes(good); bytes[20] ^= 0xFF; File.WriteAllBytes(path, bytes); break; // inside IHDR
            case "text": File.WriteAllText(path, "not a png"); break;
            case "truncated": File.WriteAllBytes(path, File.ReadAllBytes(good)[..^20]); break;
            case "colour":
                using (var rgb = new Mat(3, 3, MatType.CV_8UC3, new Scalar(1, 2, 3))) Cv2.ImWrite(path, rgb);
                break;
            case "missing": break;
        }
        var e = Assert.Throws<InvalidDataException>(() => PalettePng.Read(path));
        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void PalettePng_Write_Replaces_Atomically_And_A_Refused_Write_Keeps_The_Old_File()
    {
        var path = Path.Combine(dir, "sub", "mask.png");              // the folder is created
        PalettePng.Write(path, new byte[] { 1, 2, 3, 4 }, 2, 2, VocClasses.ColorMap);
        var before = File.ReadAllBytes(path);

        // An index without a palette entry, or a size mismatch: refused, naming the file; the existing file is untouched.
        var e = Assert.Throws<ArgumentException>(() => PalettePng.Write(path, new byte[] { 0, 1, 2, 7 }, 2, 2, VocClasses.ColorMap.Take(4).ToList()));
        Assert.Contains(path, e.Message);
        Assert.Contains("index 7 at pixel (1,1)", e.Message);
        e = Assert.Throws<ArgumentException>(() => PalettePng.Write(path, new byte[3], 2, 2, VocClasses.ColorMap));
        Assert.Contains("3 indices for a 2x2 image", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));

        // A successful overwrite replaces the content and leaves no temporary file behind.
        PalettePng.Write(path, new byte[] { 9, 9, 9, 255 }, 2, 2, VocClasses.ColorMap);
        Assert.Equal(new byte[] { 9, 9, 9, 255 }, PalettePng.Read(path).Indices);
        Assert.Equal(["mask.png"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }
}
