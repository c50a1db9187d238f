using Delta.Data.Images;
using Delta.Plugins.DomainAdapt.Reports;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Tests.Reports;

public sealed class FeatureScatterTests : IDisposable
{
    private readonly TestEnv env = new();
    public void Dispose() => env.Dispose();

    [Fact]
    public void WritesAValidPng()
    {
        using var s = TestEnv.Domain("s", 3, 4, seed: 1);
        using var t = TestEnv.Domain("t", 3, 4, seed: 2, shift: 0.3f);
        using var source = env.Encoder(2, seed: 1);
        using var target = source.CloneFor(env.Registry, TestEnv.Arch, "random", seed: 1);
        var path = Path.Combine(env.Dir, "out", "pca.png");
        FeatureScatter.Write(path, "test", source, target, s.Images, t.Images);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);   // PNG signature
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        using var decoded = ImageCodec.ReadRgb(path);                            // decodes as a whole image
        Assert.Equal(3, decoded.shape[0]);
        Assert.True(decoded.shape[1] > 100 && decoded.shape[2] > 100);
        Assert.True(decoded.std().item<float>() > 0);                           // not a blank canvas
    }

    /// <summary>Points on one line through (1, 2, 3): centred rows (−1,−2,−3), (0,0,0), (1,2,3) project onto the unit
    /// direction (1,2,3)/√14 at −√14, 0, √14 (up to the sign of the axis) and have no second component.</summary>
    [Fact]
    public void Project2D_PointsOnALine_MatchHandComputedCoordinates()
    {
        using var x = tensor(new float[] { 1, 2, 3, 2, 4, 6, 3, 6, 9 }).reshape(3, 3);
        using var p = FeatureScatter.Project2D(x);
        Assert.Equal(new long[] { 3, 2 }, p.shape);
        var v = p.data<float>().ToArray();
        Assert.Equal(Math.Sqrt(14), Math.Abs(v[0]), 4);
        Assert.Equal(0, v[2], 4);
        Assert.Equal(Math.Sqrt(14), Math.Abs(v[4]), 4);
        Assert.True(v[0] * v[4] < 0);
        Assert.All(new[] { v[1], v[3], v[5] }, y => Assert.Equal(0, y, 4));
    }
}
