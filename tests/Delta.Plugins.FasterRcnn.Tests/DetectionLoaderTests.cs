using Delta.Abstractions.Backbones;
using Delta.Data.Images;
using Delta.Data.Voc;
using Delta.Plugins.FasterRcnn.Data;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

public sealed class DetectionLoaderTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-frcnn-loader-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>No normalisation, so the batch holds the resized pixels themselves.</summary>
    private sealed class Identity : IInputPreprocessing
    {
        public string Description => "identity";
        public IReadOnlyList<float> Mean => [0, 0, 0];
        public IReadOnlyList<float> Std => [1, 1, 1];
        public Tensor Apply(Tensor rgb01) => rgb01.alias();
    }

    /// <summary>Decides every flip: NextDouble() returns the given value (the loader flips below 0.5).</summary>
    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }

    /// <summary>A PNG of the given size with a horizontal ramp (so a flip is visible) and one VOC box (1-based inclusive).</summary>
    private VocAnnotation Image(string id, int h, int w, params (int XMin, int YMin, int XMax, int YMax, bool Difficult)[] boxes)
    {
        using var scope = NewDisposeScope();
        var ramp = (arange(w, dtype: ScalarType.Float32) * (255f / w)).floor() / 255f;     // exact 8-bit values
        var img = stack([ramp.expand(h, w), ramp.flip(0).expand(h, w), full(h, w, 0.5f)], 0);
        var path = Path.Combine(dir, id + ".png");
        ImageCodec.WritePng(path, img);
        return new VocAnnotation(id, path, w, h, boxes.Select(b => new VocObject("cat", 8, "Unspecified", false, b.Difficult, b.XMin, b.YMin, b.XMax, b.YMax)).ToList());
    }

    private static float[] F(Tensor t) => t.cpu().contiguous().flatten().data<float>().ToArray();

    [Fact]
    public void An_Image_Whose_Size_Is_Not_Its_Annotations_Is_Refused_Naming_Both()
    {
        var real = Image("rotated", 100, 200, (11, 21, 60, 80, false));
        var stated = new VocAnnotation(real.ImageId, real.ImagePath, 100, 200, real.Objects);   // <size> says 100 wide, 200 high
        var loader = new DetectionLoader([stated], new DetectionTransform(50, 1000), new Identity(), CPU);
        var e = Assert.Throws<VocFormatException>(() => loader.Load([stated], null, false));
        Assert.Contains(real.ImagePath, e.Message);
        Assert.Contains("rotated.xml", e.Message);
        Assert.Contains("the image is 200x100, but its annotation (rotated.xml) gives <size> 100x200", e.Message);
    }

    [Fact]
    public void Resize_Takes_The_Shorter_Side_To_MinSize_Unless_The_Longer_Would_Pass_MaxSize_And_Scales_Boxes()
    {
        using var scope = NewDisposeScope();
        var wide = Image("wide", 100, 200, (11, 21, 60, 80, false));
        // Shorter side rules: 100 → 50 (scale 0.5), longer 200 → 100 ≤ 1000.
        var loose = new DetectionLoader([wide], new DetectionTransform(50, 1000), new Identity(), CPU);
        using (var b = loose.Load([wide], null, false))
        {
            Assert.Equal((50, 100), b.Sizes[0]);
            Assert.Equal(0.5, b.Scales[0], 12);
            // VOC (11, 21, 60, 80) 1-based inclusive → continuous (10, 20, 60, 80) → x 0.5.
            Assert.Equal(new float[] { 5, 10, 30, 40 }, F(b.Boxes[0]));
        }
        // Longer side caps: 50 / 100 would make the longer side 100 > 80 → scale 80 / 200 = 0.4 → 40 x 80.
        var capped = new DetectionLoader([wide], new DetectionTransform(50, 80), new Identity(), CPU);
        using (var b = capped.Load([wide], null, false))
        {
            Assert.Equal((40, 80), b.Sizes[0]);
            Assert.Equal(0.4, b.Scales[0], 12);
            Assert.Equal(new float[] { 4, 8, 24, 32 }, F(b.Boxes[0]).Select(v => MathF.Round(v, 4)).ToArray());
        }
    }

    [Fact]
    public void Horizontal_Flip_Mirrors_Pixels_And_Boxes_By_Hand()
    {
        using var scope = NewDisposeScope();
        var a = Image("a", 40, 80, (5, 3, 20, 30, false));
        var transform = new DetectionTransform(40, 1000, HorizontalFlip: true);             // scale 1
        var loader = new DetectionLoader([a], transform, new Identity(), CPU);
        using var plain = loader.Load([a], new FixedRandom(0.9), false);                    // 0.9 ≥ 0.5: no flip
        using var flipped = loader.Load([a], new FixedRandom(0.1), false);
        // Continuous box (4, 2, 20, 30) in an 80-wide image → x1' = 80 − 20 = 60, x2' = 80 − 4 = 76.
        Assert.Equal(new float[] { 4, 2, 20, 30 }, F(plain.Boxes[0]));
        Assert.Equal(new float[] { 60, 2, 76, 30 }, F(flipped.Boxes[0]));
        // The 40 x 80 image is padded to 64 x 96 at the bottom/right; the flip is of the image, not of the padding.
        var flippedPixels = flipped.Images[.., .., TensorIndex.Slice(0, 40), TensorIndex.Slice(0, 80)];
        var plainPixels = plain.Images[.., .., TensorIndex.Slice(0, 40), TensorIndex.Slice(0, 80)];
        Assert.True(flippedPixels.Equals(plainPixels.flip(3)));
        Assert.False(flippedPixels.Equals(plainPixels));                                    // the ramp makes the flip visible
        // Without augmentation enabled, a random source never flips.
        var noAug = new DetectionLoader([a], transform with { HorizontalFlip = false }, new Identity(), CPU);
        using var kept = noAug.Load([a], new FixedRandom(0.1), false);
        Assert.Equal(F(plain.Boxes[0]), F(kept.Boxes[0]));
    }

    [Fact]
    public void Batches_Pad_To_A_Multiple_Of_32_With_Zeros_And_Keep_Each_Images_Size()
    {
        using var scope = NewDisposeScope();
        var tall = Image("tall", 70, 50, (1, 1, 10, 10, false), (20, 20, 30, 30, true));
        var wide = Image("wide", 40, 90, (2, 2, 9, 9, false));
        var loader = new DetectionLoader([tall, wide], new DetectionTransform(40, 1000), new Identity(), CPU);   // both scale ≤ 1
        using var batch = loader.Load([tall, wide], null, includeDifficult: false);
        var s0 = batch.Sizes[0]; var s1 = batch.Sizes[1];
        Assert.Equal((56, 40), s0);                                 // 70 x 50 at 40/50 = 0.8
        Assert.Equal((40, 90), s1);                                 // shorter side already 40
        Assert.Equal(new long[] { 2, 3, 64, 96 }, batch.Images.shape); // max 56 → 64, max 90 → 96
        // Each image sits top-left; everything else is zero padding.
        Assert.Equal(0f, batch.Images[0, .., TensorIndex.Slice(s0.H), ..].abs().sum().item<float>());
        Assert.Equal(0f, batch.Images[0, .., .., TensorIndex.Slice(s0.W)].abs().sum().item<float>());
        Assert.Equal(0f, batch.Images[1, .., TensorIndex.Slice(s1.H), ..].abs().sum().item<float>());
        Assert.Equal(0f, batch.Images[1, .., .., TensorIndex.Slice(s1.W)].abs().sum().item<float>());
        using (var alone = loader.Load([wide], null, false))
            Assert.True(batch.Images[1, .., TensorIndex.Slice(0, s1.H), TensorIndex.Slice(0, s1.W)].Equals(alone.Images[0, .., TensorIndex.Slice(0, s1.H), TensorIndex.Slice(0, s1.W)]));
        // Difficult objects are left out of training targets, kept when asked (evaluation).
        Assert.Equal(1, batch.Boxes[0].shape[0]);
        using (var withDifficult = loader.Load([tall], null, includeDifficult: true))
            Assert.Equal(2, withDifficult.Boxes[0].shape[0]);
        Assert.Equal(new[] { "tall", "wide" }, batch.ImageIds);
    }
}
