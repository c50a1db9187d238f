using Delta.Plugins.DeepLabV3.Data;

namespace Delta.Plugins.DeepLabV3.Tests.Data;

public sealed class PalettePngTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("deeplab-png-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public void RoundTripKeepsEveryIndexAndWritesTheVocPalette()
    {
        var indices = Enumerable.Range(0, 7 * 5).Select(i => (byte)(i % 3 == 0 ? 255 : i % 21)).ToArray();
        var path = Path.Combine(dir, "2007_000001.png");
        PalettePng.Write(path, 7, 5, indices, VocPalette.Rgb);
        var map = PalettePng.Read(path);
        Assert.Equal((7, 5), (map.Width, map.Height));
        Assert.Equal(indices, map.Indices);
        // Known devkit colours: 1 = (128,0,0), 15 (person) = (192,128,128), 255 = (224,224,192).
        Assert.Equal(new byte[] { 128, 0, 0 }, VocPalette.Rgb[3..6]);
        Assert.Equal(new byte[] { 192, 128, 128 }, VocPalette.Rgb[45..48]);
        Assert.Equal(new byte[] { 224, 224, 192 }, VocPalette.Rgb[765..768]);
    }

    [Fact]
    public void InteroperatesWithTheSharedDeltaDataVocCodecAndPalette()
    {
        var indices = Enumerable.Range(0, 6 * 4).Select(i => (byte)(i % 5 == 0 ? 255 : i % 21)).ToArray();
        var mine = Path.Combine(dir, "mine.png");
        PalettePng.Write(mine, 6, 4, indices, VocPalette.Rgb);
        Assert.Equal(indices, Delta.Data.Voc.PalettePng.Read(mine).Indices);
        var shared = Path.Combine(dir, "shared.png");
        Delta.Data.Voc.PalettePng.Write(shared, indices, 6, 4, Delta.Data.Voc.VocClasses.ColorMap);
        Assert.Equal(indices, PalettePng.Read(shared).Indices);
        Assert.Equal(VocPalette.Rgb, Delta.Data.Voc.VocClasses.ColorMap.Take(256).SelectMany(c => new[] { c.R, c.G, c.B }).ToArray());
    }

    [Fact]
    public void OpenCvDecodesTheWrittenPngToThePaletteColours()
    {
        var path = Path.Combine(dir, "a.png");
        PalettePng.Write(path, 2, 1, new byte[] { 1, 15 }, VocPalette.Rgb);
        using var mat = OpenCvSharp.Cv2.ImRead(path, OpenCvSharp.ImreadModes.Color);
        var bgr0 = mat.At<OpenCvSharp.Vec3b>(0, 0);
        var bgr1 = mat.At<OpenCvSharp.Vec3b>(0, 1);
        Assert.Equal((0, 0, 128), (bgr0.Item0, bgr0.Item1, bgr0.Item2));
        Assert.Equal((128, 128, 192), (bgr1.Item0, bgr1.Item1, bgr1.Item2));
    }

    [Fact]
    public void CorruptOrNonPngFilesGiveErrorsNamingTheFile()
    {
        var path = Path.Combine(dir, "bad.png");
        File.WriteAllText(path, "not a png");
        var e = Assert.Throws<SegmentationDataException>(() => PalettePng.Read(path));
        Assert.Contains(path, e.Message);

        var good = Path.Combine(dir, "good.png");
        PalettePng.Write(good, 4, 4, new byte[16], VocPalette.Rgb);
        var bytes = File.ReadAllBytes(good);
        bytes[^20] ^= 0xFF;                      // flip a byte inside IDAT
        File.WriteAllBytes(path, bytes);
        e = Assert.Throws<SegmentationDataException>(() => PalettePng.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("CRC", e.Message);

        File.WriteAllBytes(path, File.ReadAllBytes(good)[..30]);
        e = Assert.Throws<SegmentationDataException>(() => PalettePng.Read(path));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void ColourPngIsRefusedAsALabelMap()
    {
        var path = Path.Combine(dir, "rgb.png");
        using (var mat = new OpenCvSharp.Mat(3, 3, OpenCvSharp.MatType.CV_8UC3, new OpenCvSharp.Scalar(1, 2, 3)))
            OpenCvSharp.Cv2.ImWrite(path, mat);
        var e = Assert.Throws<SegmentationDataException>(() => PalettePng.Read(path));
        Assert.Contains("colour type 2", e.Message);
    }
}
