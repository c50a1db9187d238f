using Delta.Data.Images;
using OpenCvSharp;
using static TorchSharp.torch;

namespace Delta.Data.Tests.Images;

public class ImageCodecTests
{
    [Fact]
    public void ReadRgb_ColourPng_GivesExactRgbChwInUnitRange()
    {
        using var dir = new TempDir();
        var path = dir.File("g.png");
        Pngs.Gradient(path, 5, 4, seed: 10);
        using var x = ImageCodec.ReadRgb(path);
        Assert.Equal(new long[] { 3, 4, 5 }, x.shape);
        Assert.Equal(ScalarType.Float32, x.dtype);
        // pixel (y=3, x=2): B = 12, G = 16, R = 15 → RGB order in the tensor
        Assert.Equal(15 / 255f, x[0, 3, 2].item<float>(), 6);
        Assert.Equal(16 / 255f, x[1, 3, 2].item<float>(), 6);
        Assert.Equal(12 / 255f, x[2, 3, 2].item<float>(), 6);
    }

    [Fact]
    public void ReadRgb_GreyPng_GivesThreeEqualChannels()
    {
        using var dir = new TempDir();
        var path = dir.File("grey.png");
        using (var grey = new Mat(3, 2, MatType.CV_8UC1, new OpenCvSharp.Scalar(200))) Cv2.ImWrite(path, grey);
        using var x = ImageCodec.ReadRgb(path);
        Assert.Equal(new long[] { 3, 3, 2 }, x.shape);
        Assert.True(x.allclose(full([3, 3, 2], 200 / 255f)));
    }

    [Fact]
    public void PngRoundTrip_TensorToMatToFile_IsExact()
    {
        using var dir = new TempDir();
        using var src = arange(0, 3 * 6 * 7, dtype: ScalarType.Float32).reshape(3, 6, 7).div(255f);
        using (var mat = ImageCodec.RgbTensorToMat(src)) ImageCodec.WritePng(dir.File("out/rt.png"), mat);
        using var back = ImageCodec.ReadRgb(dir.File("out/rt.png"));
        Assert.True(back.allclose(src, atol: 1e-6));
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("garbage")]
    [InlineData("truncated")]
    [InlineData("missing")]
    [InlineData("truncated-jpeg")]
    public void ReadRgb_BadFile_ThrowsNamingTheFile(string kind)
    {
        using var dir = new TempDir();
        var path = dir.File($"{kind}.png");
        if (kind == "empty") File.WriteAllBytes(path, []);
        if (kind == "garbage") File.WriteAllText(path, "this is not a picture");
        if (kind == "truncated")
        {
            Pngs.Gradient(path, 64, 64, 3);
            var b = File.ReadAllBytes(path);
            File.WriteAllBytes(path, b[..(b.Length / 2)]);
        }
        if (kind == "truncated-jpeg")
        {
            using (var m = new Mat(64, 64, MatType.CV_8UC3, new OpenCvSharp.Scalar(10, 200, 30))) Cv2.ImWrite(path + ".jpg", m);
            var b = File.ReadAllBytes(path + ".jpg");
            File.WriteAllBytes(path, b[..(b.Length * 2 / 3)]);
        }
        var e = Assert.Throws<ImageDecodeException>(() => ImageCodec.ReadRgb(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message);
    }
}
