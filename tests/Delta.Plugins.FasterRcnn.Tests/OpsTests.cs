using Delta.Plugins.FasterRcnn.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

public sealed class OpsTests
{
    private static Tensor Ramp() => // f[y, x] = x + 10 y on a 4x4 map
        (arange(4, dtype: ScalarType.Float32)[TensorIndex.None, ..] + 10 * arange(4, dtype: ScalarType.Float32)[.., TensorIndex.None]).reshape(1, 1, 4, 4);

    private static float[] Roi(Tensor f, float[] box, int outSize, int s, double scale = 1) =>
        RoiAlign.Apply(f, tensor(box).reshape(1, 5), outSize, scale, s).flatten().data<float>().ToArray();

    [Fact]
    public void RoiAlign_Matches_Hand_Computed_Values_With_Half_Pixel_Offset()
    {
        using var scope = NewDisposeScope();
        var f = Ramp();
        // Box (0,0)-(4,4) at scale 1, 2x2 bins, 1 sample: bin centres at image 1 and 3 → feature coordinates 0.5 and 2.5
        // (aligned=True subtracts 0.5); the ramp gives x + 10 y there. Without the offset it would be 1 and 3.
        Assert.Equal(new[] { 5.5f, 7.5f, 25.5f, 27.5f }, Roi(f, [0, 0, 0, 4, 4], 2, 1));
        // Box (1,1)-(3,3), one bin, 2x2 samples at feature 1.0 and 2.0 → mean 1.5 + 15.
        Assert.Equal(16.5f, Roi(f, [0, 1, 1, 3, 3], 1, 2)[0], 5);
        // Spatial scale 0.5: the image box (2,2)-(6,6) is the feature box (1,1)-(3,3) → the same value.
        Assert.Equal(16.5f, Roi(f, [0, 2, 2, 6, 6], 1, 2, 0.5)[0], 5);
        // Boundary rule: sample at feature coordinate 3.5 (beyond W-1 = 3 but ≤ W) clamps to 3; at 5.5 it is 0.
        Assert.Equal(3f, Roi(f, [0, 3.5f, 0, 4.5f, 1], 1, 1)[0], 5);   // x = 4 - 0.5 = 3.5 → 3, y = 0
        Assert.Equal(0f, Roi(f, [0, 5.5f, 0, 6.5f, 1], 1, 1)[0], 5);
        // Batch index picks the image.
        var two = cat([f, f * 2], 0);
        Assert.Equal(33f, RoiAlign.Apply(two, tensor(new float[] { 1, 1, 1, 3, 3 }).reshape(1, 5), 1, 1, 2).item<float>(), 4);
    }

    [Fact]
    public void RoiAlign_Gradient_Is_The_Bilinear_Weights()
    {
        using var scope = NewDisposeScope();
        var f = zeros(1, 1, 4, 4, requires_grad: true);
        // One sample at feature (x=1.5, y=1.0): weights 0.5 on (1,1) and (1,2).
        var y = RoiAlign.Apply(f, tensor(new float[] { 0, 1.5f, 1, 2.5f, 2 }).reshape(1, 5), 1, 1, 1);
        y.sum().backward();
        var g = f.grad!.flatten().data<float>().ToArray();
        var expected = new float[16]; expected[5] = 0.5f; expected[6] = 0.5f;
        Assert.Equal(expected, g);
    }

    [Fact]
    public void Anchors_Match_Torchvision_Rounding_And_Grid_Order()
    {
        using var scope = NewDisposeScope();
        var gen = new AnchorGenerator([32], [0.5, 1.0, 2.0]);
        Assert.Equal(new float[] { -23, -11, 23, 11, -16, -16, 16, 16, -11, -23, 11, 23 }, gen.BaseAnchors(CPU).flatten().data<float>().ToArray());
        var a = gen.Generate(2, 3, 8, CPU);                 // [H*W*A, 4], order (h, w, a)
        Assert.Equal(new long[] { 18, 4 }, a.shape);
        int idx = (1 * 3 + 2) * 3 + 1;                     // h = 1, w = 2, a = 1 (ratio 1) → centre (16, 8)
        Assert.Equal(new float[] { 0, -8, 32, 24 }, a[idx].data<float>().ToArray());
    }

    [Fact]
    public void BoxCoder_Encode_Decode_Round_Trip()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(3);
        var xy = rand(50, 2, generator: g) * 100; var wh = rand(50, 2, generator: g) * 50 + 1;
        var refs = cat([xy, xy + wh], 1);
        var xy2 = rand(50, 2, generator: g) * 100; var wh2 = rand(50, 2, generator: g) * 50 + 1;
        var targets = cat([xy2, xy2 + wh2], 1);
        foreach (var coder in new[] { new BoxCoder(1, 1, 1, 1), new BoxCoder(10, 10, 5, 5) })
        {
            var back = coder.Decode(coder.Encode(refs, targets), refs);
            Assert.True(back.allclose(targets, rtol: 1e-4, atol: 1e-3));
        }
        // Zero deltas give back the reference box.
        Assert.True(new BoxCoder(10, 10, 5, 5).Decode(zeros(50, 4), refs).allclose(refs, atol: 1e-4));
    }

    private static List<long> BruteForceNms(float[] b, float[] s, long[]? cls, double t)
    {
        int n = s.Length;
        var order = Enumerable.Range(0, n).OrderByDescending(i => s[i]).ThenBy(i => i).ToList();
        var keep = new List<long>();
        foreach (var i in order)
        {
            bool ok = true;
            foreach (var j in keep)
            {
                if (cls != null && cls[i] != cls[j]) continue;
                double iw = Math.Max(0, Math.Min(b[4 * i + 2], b[4 * j + 2]) - Math.Max(b[4 * i], b[4 * j]));
                double ih = Math.Max(0, Math.Min(b[4 * i + 3], b[4 * j + 3]) - Math.Max(b[4 * i + 1], b[4 * j + 1]));
                double inter = iw * ih;
                double u = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]) + (b[4 * j + 2] - b[4 * j]) * (b[4 * j + 3] - b[4 * j + 1]) - inter;
                if (inter / u > t) { ok = false; break; }
            }
            if (ok) keep.Add(i);
        }
        return keep;
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.7)]
    public void Nms_Keeps_Exactly_The_Brute_Force_Set(double threshold)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(7);
        var xy = rand(400, 2, generator: g) * 200; var wh = rand(400, 2, generator: g) * 60 + 2;
        var boxes = cat([xy, xy + wh], 1);
        var scores = rand(400, generator: g);
        var classes = randint(0, 4, [400], generator: g);
        var b = boxes.data<float>().ToArray(); var s = scores.data<float>().ToArray(); var c = classes.data<long>().ToArray();
        Assert.Equal(BruteForceNms(b, s, null, threshold), Nms.Run(boxes, scores, threshold).data<long>().ToList());
        Assert.Equal(BruteForceNms(b, s, c, threshold), Nms.Batched(boxes, scores, classes, threshold).data<long>().ToList());
        Assert.Equal(BruteForceNms(b, s, c, threshold), Nms.BatchedPerClass(boxes, scores, classes, threshold).data<long>().ToList());
        Assert.Empty(Nms.BatchedPerClass(zeros(0, 4), zeros(0), zeros(0, dtype: ScalarType.Int64), threshold).data<long>().ToArray());
        Assert.Empty(Nms.Run(zeros(0, 4), zeros(0), threshold).data<long>().ToArray());
    }

    /// <summary>The device bit-matrix NMS (what CUDA runs) keeps exactly greedy's set, dense random boxes included,
    /// counts that are not a multiple of 8 (padded rows) too.</summary>
    [Theory]
    [InlineData(0.3, 400)]
    [InlineData(0.5, 403)]
    [InlineData(0.7, 1500)]
    [InlineData(0.5, 1)]
    public void Device_Nms_Keeps_Exactly_The_Brute_Force_Set(double threshold, int n)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(11);
        var xy = rand(n, 2, generator: g) * 200; var wh = rand(n, 2, generator: g) * 60 + 2;
        var boxes = cat([xy, xy + wh], 1);
        var scores = rand(n, generator: g);
        var expected = BruteForceNms(boxes.data<float>().ToArray(), scores.data<float>().ToArray(), null, threshold);
        Assert.Equal(expected, DeviceNms.Run(boxes, scores, threshold).data<long>().ToList());
        Assert.Empty(DeviceNms.Run(zeros(0, 4), zeros(0), threshold).data<long>().ToArray());
    }

    /// <summary>A sliding chain: each box overlaps only its neighbours, so greedy keeps every other box, and each
    /// box's status depends on its predecessor's (an earlier fixed-point formulation needed one iteration per box here).</summary>
    [Fact]
    public void Device_Nms_Keeps_Every_Other_Box_Of_A_Sliding_Chain()
    {
        using var scope = NewDisposeScope();
        const int n = 12;
        // Box k = [6k, 0, 6k + 10, 10]: IoU with k+1 is 4/16 = 0.25 > 0.2, with k+2 zero. Scores fall along the chain.
        var boxes = stack(Enumerable.Range(0, n).Select(k => tensor(new[] { 6f * k, 0, 6f * k + 10, 10 })).ToArray());
        var scores = linspace(1, 0.1, n);
        var greedy = Enumerable.Range(0, n).Where(k => k % 2 == 0).Select(k => (long)k).ToList();
        Assert.Equal(greedy, DeviceNms.Run(boxes, scores, 0.2).data<long>().ToList());
        Assert.Equal(greedy, Nms.Run(boxes, scores, 0.2).data<long>().ToList());
    }
}
