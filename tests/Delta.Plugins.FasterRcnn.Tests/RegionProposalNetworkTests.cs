using Delta.Plugins.FasterRcnn.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

/// <summary>An RPN whose head is set by hand: one anchor per location (size = stride, so neighbouring anchors only touch
/// and NMS suppresses nothing), objectness logit = the feature value, box deltas = a constant. Proposals are then known
/// anchors in a known order.</summary>
public sealed class RegionProposalNetworkTests
{
    private static RegionProposalNetwork HandSetRpn(RpnSettings settings, float logDeltaScale = 0f)
    {
        var head = new RpnHead(1, 1);
        using (no_grad())
            foreach (var (name, p) in head.named_parameters())
            {
                p.zero_();
                if (name == "conv.weight") p[0, 0, 1, 1] = 1f;          // identity 3x3 (ReLU keeps non-negative features)
                if (name == "cls_logits.weight") p.fill_(1f);          // logit = feature value
                if (name == "bbox_pred.bias") { p[2] = logDeltaScale; p[3] = logDeltaScale; } // tw = th = log scale
            }
        // Level 0: stride 8, anchors 8x8; level 1: stride 16, anchors 16x16.
        return new RegionProposalNetwork(head, [new AnchorGenerator([8], [1.0]), new AnchorGenerator([16], [1.0])], [8, 16], settings);
    }

    /// <summary>Level 0 [1, 1, 4, 4] with values 0..15 at shuffled positions; level 1 [1, 1, 2, 2].</summary>
    private static (Tensor L0, Tensor L1) Levels()
    {
        var l0 = tensor(new float[] { 5, 14, 3, 8, 0, 12, 9, 1, 15, 6, 11, 2, 7, 4, 13, 10 }).reshape(1, 1, 4, 4);
        var l1 = tensor(new float[] { 2, 9, 4, 7 }).reshape(1, 1, 2, 2);
        return (l0, l1);
    }

    /// <summary>The 8x8 anchor of level-0 cell (row, col), clipped to the 32x32 image: centred on (8 col, 8 row).</summary>
    private static float[] Anchor0(int row, int col) =>
        [Math.Max(0, 8 * col - 4), Math.Max(0, 8 * row - 4), Math.Min(32, 8 * col + 4), Math.Min(32, 8 * row + 4)];

    private static float[] Anchor1(int row, int col) =>
        [Math.Max(0, 16 * col - 8), Math.Max(0, 16 * row - 8), Math.Min(32, 16 * col + 8), Math.Min(32, 16 * row + 8)];

    [Fact]
    public void Pre_Nms_Top_K_Is_Per_Level_And_Post_Nms_Top_K_Per_Image()
    {
        using var scope = NewDisposeScope();
        var (l0, l1) = Levels();
        using var noGrad = no_grad();
        // Test-time: pre-NMS top 2 per level, post-NMS 10 → exactly the 2 best of each level, by descending logit:
        // level 0: 15 at (2,0), 14 at (0,1); level 1: 9 at (0,1), 7 at (1,1).
        var rpn = HandSetRpn(new RpnSettings(PreNmsTopNTest: 2, PostNmsTopNTest: 10, PreNmsTopNTrain: 3, PostNmsTopNTrain: 4));
        var (test, _) = rpn.Forward([l0, l1], [(32, 32)], null, training: false);
        Assert.Equal(new[] { Anchor0(2, 0), Anchor0(0, 1), Anchor1(0, 1), Anchor1(1, 1) }.SelectMany(a => a).ToArray(),
            test[0].flatten().data<float>().ToArray());

        // Training uses its own bounds: pre 3 per level (15, 14, 13 | 9, 7, 4) then post 4 across levels (15, 14, 13, 9).
        var (train, _) = rpn.Forward([l0, l1], [(32, 32)], null, training: true);
        Assert.Equal(new[] { Anchor0(2, 0), Anchor0(0, 1), Anchor0(3, 2), Anchor1(0, 1) }.SelectMany(a => a).ToArray(),
            train[0].flatten().data<float>().ToArray());

        // Bounds hold per image in a batch: each image gets at most min(postN, levels x preN) proposals.
        var batch = HandSetRpn(new RpnSettings(PreNmsTopNTest: 5, PostNmsTopNTest: 7));
        var (two, _) = batch.Forward([cat([l0, l0.flip(3)], 0), cat([l1, l1], 0)], [(32, 32), (32, 32)], null, training: false);
        Assert.Equal(2, two.Count);
        Assert.All(two, p => Assert.Equal(7, p.shape[0]));
    }

    [Fact]
    public void Proposals_Are_Clipped_To_Each_Images_Own_Size()
    {
        using var scope = NewDisposeScope();
        var (l0, l1) = Levels();
        using var noGrad = no_grad();
        // Deltas tw = th = log 3 make every box 3x its anchor, so most reach beyond the image; the two images of the padded
        // batch have different true sizes.
        var rpn = HandSetRpn(new RpnSettings(PreNmsTopNTest: 20, PostNmsTopNTest: 20, NmsThreshold: 1.0), MathF.Log(3));
        (int H, int W)[] sizes = [(20, 28), (32, 12)];
        var (proposals, _) = rpn.Forward([cat([l0, l0], 0), cat([l1, l1], 0)], sizes, null, training: false);
        for (int i = 0; i < 2; i++)
        {
            var b = proposals[i];
            Assert.True(b.shape[0] > 0);
            Assert.True(b.min().item<float>() >= 0);
            Assert.True(b[.., 2].max().item<float>() <= sizes[i].W && b[.., 3].max().item<float>() <= sizes[i].H, $"image {i} not clipped");
            Assert.Equal(sizes[i].W, b[.., 2].max().item<float>());   // something really was clipped at the right edge
            Assert.True(BoxOps.NotSmall(b, 1e-3).all().item<bool>()); // boxes clipped to nothing are dropped
        }
    }

    [Fact]
    public void Anchor_Sampling_Respects_Batch_Size_Positive_Fraction_And_Iou_Thresholds()
    {
        using var scope = NewDisposeScope();
        var gen = new AnchorGenerator([16, 32], [0.5, 1.0, 2.0]);
        var anchors = gen.Generate(16, 16, 8, CPU);                                       // 1536 anchors over a 128x128 image
        // Many GT boxes → more positives than the fraction allows; the sample must be capped.
        var gt = tensor(Enumerable.Range(0, 16).SelectMany(k => new float[] { (k % 4) * 32 + 4, (k / 4) * 32 + 4, (k % 4) * 32 + 28, (k / 4) * 32 + 28 }).ToArray()).reshape(-1, 4);
        var settings = new RpnSettings(BatchSizePerImage: 64, PositiveFraction: 0.25, FgIou: 0.4, BgIou: 0.3);
        var rpn = HandSetRpn(settings);
        var iou = BoxOps.Iou(gt, anchors);                                                // [G, A]
        var best = iou.max(0).values;                                                     // [A]
        long eligiblePositives = best.ge(0.4).sum().item<long>();
        Assert.True(eligiblePositives > 16, $"test setup: {eligiblePositives} positives are not enough to exceed the cap");

        var (pos, neg, matched) = rpn.SampleAnchors(anchors, gt, new Generator(3));
        Assert.Equal(16, pos.shape[0]);                                                   // 64 x 0.25
        Assert.Equal(48, neg.shape[0]);                                                   // the rest of the batch
        Assert.Equal(64, cat([pos, neg], 0).unique().Item1.shape[0]);                        // no anchor twice
        Assert.True(best.index_select(0, neg).lt(0.3).all().item<bool>());               // negatives are background
        var posIou = iou.index_select(1, pos).gather(0, matched.index_select(0, pos).unsqueeze(0)).squeeze(0); // IoU with the matched GT
        var perGtBest = iou.max(1).values;                                                // [G]
        var isGtBest = iou.index_select(1, pos).eq(perGtBest[.., TensorIndex.None]).any(0);
        Assert.True(posIou.ge(0.4).logical_or(isGtBest).all().item<bool>());              // positive by threshold or as a GT's best

        // Few positives: all of them are taken and negatives fill the batch.
        var (pos1, neg1, _) = rpn.SampleAnchors(anchors, gt[..1], new Generator(3));
        long single = BoxOps.Iou(gt[..1], anchors).max(0).values.ge(0.4).sum().item<long>();
        Assert.True(single < 16);
        Assert.True(pos1.shape[0] >= single);
        Assert.Equal(64, pos1.shape[0] + neg1.shape[0]);
    }
}
