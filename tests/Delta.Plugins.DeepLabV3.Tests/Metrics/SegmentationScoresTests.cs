using Delta.Plugins.DeepLabV3.Metrics;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Tests.Metrics;

public sealed class SegmentationScoresTests
{
    [Fact]
    public void ScoresOfAConstructedMatrixMatchHandComputedValues()
    {
        // Rows = truth, columns = prediction, 4 classes; class 3 never occurs in truth nor prediction.
        //        p0 p1 p2 p3
        // t0:    50 10  0  0
        // t1:     5 20  5  0
        // t2:     0  0 10  0
        var m = new ConfusionMatrix(4);
        m.Add(0, 0, 50); m.Add(0, 1, 10); m.Add(1, 0, 5); m.Add(1, 1, 20); m.Add(1, 2, 5); m.Add(2, 2, 10);
        var s = m.Scores();
        // IoU0 = 50/(60+55-50) = 50/65; IoU1 = 20/(30+30-20) = 20/40; IoU2 = 10/(10+15-10) = 10/15; class 3 absent → NaN, excluded.
        Assert.Equal(50.0 / 65, s.ClassIoU[0], 12);
        Assert.Equal(0.5, s.ClassIoU[1], 12);
        Assert.Equal(10.0 / 15, s.ClassIoU[2], 12);
        Assert.True(double.IsNaN(s.ClassIoU[3]));
        Assert.Equal((50.0 / 65 + 0.5 + 10.0 / 15) / 3, s.MeanIoU, 12);
        Assert.Equal(80.0 / 100, s.PixelAccuracy, 12);
        Assert.Equal(100, s.LabelledPixels);
    }

    [Fact]
    public void AClassPredictedButNeverPresentCountsWithZeroIoU()
    {
        var m = new ConfusionMatrix(3);
        m.Add(0, 0, 8); m.Add(0, 2, 2);
        var s = m.Scores();
        Assert.Equal(0.8, s.ClassIoU[0], 12);
        Assert.True(double.IsNaN(s.ClassIoU[1]));
        Assert.Equal(0.0, s.ClassIoU[2]);
        Assert.Equal(0.4, s.MeanIoU, 12);
    }

    [Fact]
    public void TensorUpdateCountsPixelsAndSkipsIgnoredTruth()
    {
        using var scope = NewDisposeScope();
        var truth = tensor(new long[] { 0, 1, 1, 255, 2, 255 }, [1, 2, 3]);
        var pred = tensor(new long[] { 0, 1, 0, 2, 2, 1 }, [1, 2, 3]);
        var m = new ConfusionMatrix(3);
        m.Update(truth, pred);
        Assert.Equal(1, m[0, 0]); Assert.Equal(1, m[1, 1]); Assert.Equal(1, m[1, 0]); Assert.Equal(1, m[2, 2]);
        Assert.Equal(4, m.Scores().LabelledPixels);
        // Changing predictions at ignored pixels changes nothing.
        var other = new ConfusionMatrix(3);
        other.Update(truth, tensor(new long[] { 0, 1, 0, 0, 2, 0 }, [1, 2, 3]));
        Assert.Equal(m.Scores().ClassIoU, other.Scores().ClassIoU);
    }
}
