using Delta.Plugins.FasterRcnn.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

public sealed class RoiHeadsTests
{
    private static RoiHeads Heads(RoiHeadSettings settings, int numClasses = 2) =>
        new(new MultiScaleRoiAlign([8]), new BoxHead(4 * 7 * 7, 8, numClasses + 1), numClasses, settings);

    private static float[] F(Tensor t) => t.detach().cpu().contiguous().flatten().data<float>().ToArray();

    [Fact]
    public void Proposal_Sampling_Caps_Foreground_At_The_Positive_Fraction_And_Labels_By_The_Matched_Gt()
    {
        using var scope = NewDisposeScope();
        var heads = Heads(new RoiHeadSettings(BatchSizePerImage: 16, PositiveFraction: 0.25));
        var gt = tensor(new float[] { 10, 10, 50, 50, 100, 100, 140, 160 }).reshape(2, 4);
        var gtLabels = tensor(new long[] { 2, 1 });
        // 20 jittered copies of each GT (IoU > 0.5 with it) and 40 boxes far from both.
        var rng = new Random(5);
        var near = Enumerable.Range(0, 40).SelectMany(k =>
        {
            var g = k % 2 == 0 ? new float[] { 10, 10, 50, 50 } : [100, 100, 140, 160];
            return g.Select(v => v + rng.Next(-3, 4)).ToArray();
        });
        var far = Enumerable.Range(0, 40).SelectMany(k => new float[] { 200 + k, 0, 230 + k, 30 });
        var proposals = tensor(near.Concat(far).ToArray()).reshape(-1, 4);

        var (boxes, labels, targets) = heads.SampleProposals(proposals, gt, gtLabels, new Generator(1));
        Assert.Equal(16, boxes.shape[0]);
        Assert.Equal(4, labels.gt(0).sum().item<long>());                                  // 16 x 0.25 foreground
        var iou = BoxOps.Iou(gt, boxes);                                                    // [2, 16]
        var (bestIou, bestGt) = iou.max(0);
        var fg = labels.gt(0);
        Assert.True(bestIou.masked_select(fg).ge(0.5).all().item<bool>());
        Assert.True(bestIou.masked_select(fg.logical_not()).lt(0.5).all().item<bool>());
        Assert.Equal(gtLabels.index_select(0, bestGt).masked_select(fg).data<long>().ToArray(), labels.masked_select(fg).data<long>().ToArray());
        // Regression targets of the foreground point at the matched GT: decoding them gives the GT back.
        var coder = new BoxCoder(10, 10, 5, 5);
        var fgIdx = fg.nonzero().flatten();
        var decoded = coder.Decode(targets.index_select(0, fgIdx), boxes.index_select(0, fgIdx));
        Assert.True(decoded.allclose(gt.index_select(0, bestGt.index_select(0, fgIdx)), rtol: 0, atol: 1e-3));

        // No proposals at all: the GT boxes themselves are the (only) RoIs, labelled with their classes, zero targets.
        var (gtOnly, gtOnlyLabels, gtOnlyTargets) = heads.SampleProposals(zeros(0, 4), gt, gtLabels, new Generator(1));
        var order = gtOnly[.., 0].argsort();
        Assert.Equal(F(gt), F(gtOnly.index_select(0, order)));
        Assert.Equal(new long[] { 2, 1 }, gtOnlyLabels.index_select(0, order).data<long>().ToArray());
        Assert.All(F(gtOnlyTargets), v => Assert.Equal(0f, v, 6));

        // An image without objects: every sampled RoI is background, at most the batch size.
        var (_, bgLabels, _) = heads.SampleProposals(proposals, zeros(0, 4), zeros(0, dtype: ScalarType.Int64), new Generator(1));
        Assert.Equal(16, bgLabels.shape[0]);
        Assert.Equal(0, bgLabels.sum().item<long>());
    }

    [Fact]
    public void Box_Loss_Uses_Only_Each_Foreground_Rois_Own_Class_Deltas()
    {
        using var scope = NewDisposeScope();
        var labels = tensor(new long[] { 2, 0, 1 });
        var targets = tensor(new float[] { 0.1f, 0.2f, 0.3f, 0.4f, 9, 9, 9, 9, -1, 0.5f, 0, 0 }).reshape(3, 4);
        var deltas = full(3, 12, 100f);                        // every slot that must not be read holds garbage
        deltas[0, TensorIndex.Slice(8, 12)] = tensor(new float[] { 1.1f, 0.2f, 0.3f, 0.4f });   // class 2: x off by 1
        deltas[2, TensorIndex.Slice(4, 8)] = tensor(new float[] { -1, 0.55f, 0, 0 });           // class 1: y off by 0.05
        var scores = zeros(3, 3);

        var (cls, box) = RoiHeads.FastRcnnLoss(scores, deltas, labels, targets);
        Assert.Equal(Math.Log(3), cls.item<float>(), 5);        // uniform scores over 3 classes
        // smooth-L1 with β = 1/9: |1| ≥ β → 1 − β/2; |0.05| < β → 0.5 · 0.05² / β. Divided by all 3 RoIs.
        double expected = (1 - 1.0 / 18 + 0.5 * 0.05 * 0.05 * 9) / 3;
        Assert.Equal(expected, box.item<float>(), 4);
    }

    [Fact]
    public void Post_Processing_Applies_Score_Threshold_Class_Wise_Nms_Clipping_And_Top_K()
    {
        using var scope = NewDisposeScope();
        var proposals = tensor(new float[] { 0, 0, 10, 10, 1, 0, 11, 10, 20, 20, 30, 30 }).reshape(3, 4); // p0, p1 (IoU 0.82 with p0), p2
        var probs = tensor(new float[]
        {
            0.10f, 0.60f, 0.30f,      // p0: class 1 0.6; class 2 exactly at the threshold → dropped (strictly above only)
            0.10f, 0.50f, 0.40f,      // p1: class 1 suppressed by p0's; class 2 survives (no class-2 box overlaps it)
            0.20f, 0.35f, 0.45f,      // p2
        }).reshape(3, 3);
        var deltas = zeros(3, 12);                             // boxes = proposals
        var top3 = Heads(new RoiHeadSettings(ScoreThreshold: 0.3, NmsThreshold: 0.5, DetectionsPerImage: 3)).PostProcess(probs, deltas, proposals, (25, 25));
        Assert.Equal(new[] { 0.6f, 0.45f, 0.4f }, F(top3.Scores));
        Assert.Equal(new long[] { 1, 2, 2 }, top3.Labels.data<long>().ToArray());
        Assert.Equal(new float[] { 0, 0, 10, 10, 20, 20, 25, 25, 1, 0, 11, 10 }, F(top3.Boxes));   // p2 clipped to the 25x25 image

        var all = Heads(new RoiHeadSettings(ScoreThreshold: 0.3, NmsThreshold: 0.5, DetectionsPerImage: 100)).PostProcess(probs, deltas, proposals, (25, 25));
        Assert.Equal(new[] { 0.6f, 0.45f, 0.4f, 0.35f }, F(all.Scores));
        Assert.Equal(new long[] { 1, 2, 2, 1 }, all.Labels.data<long>().ToArray());

        var high = Heads(new RoiHeadSettings(ScoreThreshold: 0.5, NmsThreshold: 0.5)).PostProcess(probs, deltas, proposals, (25, 25));
        Assert.Equal(new[] { 0.6f }, F(high.Scores));           // 0.5 itself is not above 0.5
    }
}
