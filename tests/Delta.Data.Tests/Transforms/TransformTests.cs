using Delta.Data.Transforms;
using static TorchSharp.torch;

namespace Delta.Data.Tests.Transforms;

public class TransformTests
{
    [Fact]
    public void RandomResizedCrop_WindowsStayInsideWithAreaAndRatioInRange()
    {
        var rng = new Random(1);
        for (int t = 0; t < 2000; t++)
        {
            var (top, left, h, w) = RandomResizedCrop.GetParams(60, 100, rng, (0.08, 1.0), (3.0 / 4, 4.0 / 3));
            Assert.InRange(h, 1, 60); Assert.InRange(w, 1, 100);
            Assert.InRange(top, 0, 60 - h); Assert.InRange(left, 0, 100 - w);
            var area = (double)h * w / 6000;
            var ratio = (double)w / h;
            var isFallback = (h, w) == (60, 80);
            if (!isFallback)
            {
                // w and h are rounded separately, so area and ratio carry up to half a pixel of slack per side
                Assert.InRange(area, 0.08 * (1 - 1.0 / Math.Min(h, w)) - 1e-9, 1.0 + 1e-9);
                Assert.InRange(ratio, 0.75 * (1 - 1.0 / h) - 1e-9, 4.0 / 3 * (1 + 1.0 / h) + 1e-9);
            }
        }
    }

    [Theory]
    [InlineData(20, 100, 0, 36, 20, 27)]    // too wide: full height, width = round(20·4/3), centred
    [InlineData(100, 20, 36, 0, 27, 20)]    // too tall: full width, height = round(20/(3/4))
    [InlineData(40, 45, 0, 0, 40, 45)]      // ratio inside range: the whole image
    public void RandomResizedCrop_FallsBackToCentralCropAfterTenFailedTries(int h, int w, int top, int left, int ch, int cw)
    {
        // scale > 1 makes every try fail (the window would exceed the image), forcing torchvision's fallback
        Assert.Equal((top, left, ch, cw), RandomResizedCrop.GetParams(h, w, new Random(0), (2.0, 3.0), (3.0 / 4, 4.0 / 3)));
    }

    [Fact]
    public void RandomResizedCrop_OutputSizeAndSeedDeterminism()
    {
        using var img = rand(3, 50, 70);
        var t = new RandomResizedCrop(24);
        using var a = t.Apply(img, new Random(7));
        using var b = t.Apply(img, new Random(7));
        using var c = t.Apply(img, new Random(8));
        Assert.Equal(new long[] { 3, 24, 24 }, a.shape);
        Assert.True(a.Equals(b));
        Assert.False(a.Equals(c));
    }

    [Fact]
    public void CenterCrop_TakesTheMiddle_PadsWhenSmaller()
    {
        using var img = arange(0, 5 * 6, dtype: ScalarType.Float32).reshape(1, 5, 6);
        using var crop = new CenterCrop(3, 2).Apply(img, new Random(0));
        // top = round(2/2) = 1, left = round(4/2) = 2 → rows 1..3, columns 2..3
        Assert.Equal(new float[] { 8, 9, 14, 15, 20, 21 }, crop.data<float>().ToArray());
        using var padded = new CenterCrop(7, 6).Apply(img, new Random(0));
        Assert.Equal(new long[] { 1, 7, 6 }, padded.shape);
        Assert.Equal(0f, padded[0, 0, 0].item<float>());
        Assert.Equal(0f, padded[0, 1, 0].item<float>());               // first image row lands on row 1
    }

    [Fact]
    public void FlipGreyResizeCompose_DoWhatTheySay()
    {
        using var img = arange(0, 6, dtype: ScalarType.Float32).reshape(1, 2, 3).div(6f);
        using var flipped = new HorizontalFlip(1.0).Apply(img, new Random(0));
        Assert.Equal(new[] { 2f, 1, 0, 5, 4, 3 }, flipped.mul(6f).round().data<float>().ToArray());
        using var kept = new HorizontalFlip(0.0).Apply(img, new Random(0));
        Assert.True(kept.Equals(img));
        using var rgb = new GreyToRgb().Apply(img, new Random(0));
        Assert.Equal(new long[] { 3, 2, 3 }, rgb.shape);
        Assert.True(rgb[2].Equals(img[0]));
        using var constant = full(3, 10, 10, 0.25f);
        using var small = new Resize(4).Apply(constant, new Random(0));
        using var big = new Resize(20, 30).Apply(constant, new Random(0));
        Assert.True(small.allclose(full(3, 4, 4, 0.25f)));
        Assert.True(big.allclose(full(3, 20, 30, 0.25f)));
        using var composed = new Compose(new GreyToRgb(), new HorizontalFlip(1.0), new Resize(4, 6)).Apply(img, new Random(0));
        Assert.Equal(new long[] { 3, 4, 6 }, composed.shape);
    }
}
