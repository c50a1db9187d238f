using Delta.Plugins.FasterRcnn.Metrics;

namespace Delta.Plugins.FasterRcnn.Tests;

public sealed class VocApTests
{
    [Fact]
    public void Ap_With_Difficult_And_Duplicate_Detections_Has_The_Hand_Computed_Value()
    {
        var gts = new[]
        {
            new VocGroundTruth("a", 1, false, 1, 1, 10, 10),
            new VocGroundTruth("a", 1, true, 50, 50, 60, 60),
            new VocGroundTruth("b", 1, false, 20, 20, 40, 40),
        };
        var dets = new[]
        {
            new VocDetection("a", 1, 0.9, 1, 1, 10, 10),    // TP
            new VocDetection("a", 1, 0.8, 1, 1, 10, 11),    // duplicate of a claimed GT → FP
            new VocDetection("a", 1, 0.7, 50, 50, 60, 60),  // matches a difficult GT → ignored
            new VocDetection("b", 1, 0.6, 100, 100, 120, 120), // FP
            new VocDetection("b", 1, 0.5, 21, 21, 40, 40),  // TP
        };
        var r = VocAp.Evaluate(dets, gts, [1]);
        // After dropping the ignored one: TP FP FP TP, npos = 2 → recall .5 .5 .5 1, precision 1 .5 .33 .5.
        Assert.Equal(0.75, r.ApArea[1], 10);                   // 0.5 * 1 + 0.5 * 0.5
        Assert.Equal(8.5 / 11, r.Ap11Point[1], 10);             // 6 thresholds at precision 1, 5 at 0.5
        Assert.Equal(r.ApArea[1], r.MeanApArea, 10);
    }

    [Fact]
    public void Perfect_Detections_Give_One_And_None_Give_Zero()
    {
        var gts = new[] { new VocGroundTruth("a", 2, false, 5, 5, 30, 30), new VocGroundTruth("b", 3, false, 1, 1, 9, 9) };
        var perfect = gts.Select(g => new VocDetection(g.ImageId, g.Label, 1, g.XMin, g.YMin, g.XMax, g.YMax)).ToList();
        var r = VocAp.Evaluate(perfect, gts, [2, 3]);
        Assert.Equal(1.0, r.MeanApArea, 10);
        Assert.Equal(1.0, r.MeanAp11Point, 10);
        var none = VocAp.Evaluate([], gts, [2, 3]);
        Assert.Equal(0.0, none.MeanApArea);
        // Wrong class on the right box is not a hit; IoU exactly at the devkit's +1 convention: (1..10) vs (6..15) overlap 5x10/(150) = 1/3.
        var wrong = VocAp.Evaluate([new VocDetection("a", 3, 1, 5, 5, 30, 30)], gts, [2, 3]);
        Assert.Equal(0.0, wrong.MeanApArea);
    }
}
