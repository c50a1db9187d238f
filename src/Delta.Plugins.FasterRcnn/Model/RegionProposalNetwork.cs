using Delta.Plugins.FasterRcnn.Losses;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>Settings of the RPN (torchvision's FPN defaults scaled for small images where noted).</summary>
public sealed record RpnSettings(
    int PreNmsTopNTrain = 2000, int PostNmsTopNTrain = 2000,
    int PreNmsTopNTest = 1000, int PostNmsTopNTest = 1000,
    double NmsThreshold = 0.7, double FgIou = 0.7, double BgIou = 0.3,
    int BatchSizePerImage = 256, double PositiveFraction = 0.5, double MinSize = 1e-3);

/// <summary>
/// Region Proposal Network (Ren et al. 2015) over FPN levels: anchors per level, a shared head, top-k per level, decode,
/// clip, small-box removal, per-level NMS (batched via the class-offset trick with level as class), top-k per image.
/// Training loss: sampled anchors, BCE on objectness, smooth-L1 (β = 1/9) on deltas of positives, normalised by the
/// number of sampled anchors (as torchvision).
/// Shapes: level l logits [N, A, H_l, W_l] → permute(0,2,3,1) → [N, H_l W_l A]; deltas [N, 4A, H_l, W_l] →
/// view [N, A, 4, H_l, W_l] → permute(0,3,4,1,2) → [N, H_l W_l A, 4] (the anchors' (h, w, a) order).
/// </summary>
public sealed class RegionProposalNetwork(RpnHead head, IReadOnlyList<AnchorGenerator> anchorGenerators, IReadOnlyList<int> strides, RpnSettings settings)
{
    private readonly BoxCoder coder = new(1, 1, 1, 1);

    public RpnHead Head => head;

    /// <summary>Proposals per image [R_i, 4] (detached) and, when <paramref name="targets"/> is given, the losses.</summary>
    public (IReadOnlyList<Tensor> Proposals, IReadOnlyDictionary<string, Tensor> Losses) Forward(
        IReadOnlyList<Tensor> levels, IReadOnlyList<(int H, int W)> imageSizes, IReadOnlyList<Tensor>? targets, bool training, Generator? generator = null)
    {
        if (levels.Count != anchorGenerators.Count) throw new ArgumentException($"RPN expects {anchorGenerators.Count} levels, got {levels.Count}.");
        long n = levels[0].shape[0];
        var dev = levels[0].device;
        var logitsPerLevel = new List<Tensor>(); var deltasPerLevel = new List<Tensor>(); var anchorsPerLevel = new List<Tensor>();
        for (int l = 0; l < levels.Count; l++)
        {
            var (lg, dl) = head.call(levels[l]);
            long a = lg.shape[1], h = lg.shape[2], w = lg.shape[3];
            logitsPerLevel.Add(lg.permute(0, 2, 3, 1).reshape(n, -1));                          // [N, H W A]
            deltasPerLevel.Add(dl.view(n, a, 4, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, 4)); // [N, H W A, 4]
            anchorsPerLevel.Add(anchorGenerators[l].Generate(h, w, strides[l], dev));           // [H W A, 4]
        }
        var logits = cat(logitsPerLevel, 1);      // [N, ΣA]
        var deltas = cat(deltasPerLevel, 1);      // [N, ΣA, 4]
        var anchors = cat(anchorsPerLevel, 0);    // [ΣA, 4]
        var levelOf = cat(anchorsPerLevel.Select((t, l) => full(t.shape[0], (long)l, dtype: ScalarType.Int64, device: dev)).ToList(), 0);

        var proposals = new List<Tensor>();
        using (no_grad())
        {
            var decoded = coder.Decode(deltas.detach().reshape(-1, 4), anchors.repeat(n, 1)).reshape(n, -1, 4);
            int preN = training ? settings.PreNmsTopNTrain : settings.PreNmsTopNTest, postN = training ? settings.PostNmsTopNTrain : settings.PostNmsTopNTest;
            for (int i = 0; i < n; i++)
            {
                // Top-k per level, then clip, drop tiny boxes, NMS within each level, keep the best postN.
                var keepIdx = new List<Tensor>();
                long offset = 0;
                foreach (var t in anchorsPerLevel)
                {
                    long cnt = t.shape[0];
                    var (_, top) = logits[i, TensorIndex.Slice(offset, offset + cnt)].detach().topk((int)Math.Min(preN, cnt));
                    keepIdx.Add(top + offset);
                    offset += cnt;
                }
                var idx = cat(keepIdx, 0);
                var boxes = BoxOps.Clip(decoded[i].index_select(0, idx), imageSizes[i].H, imageSizes[i].W);
                var scores = logits[i].detach().index_select(0, idx);
                var lv = levelOf.index_select(0, idx);
                var ok = BoxOps.NotSmall(boxes, settings.MinSize).nonzero().flatten();
                boxes = boxes.index_select(0, ok); scores = scores.index_select(0, ok); lv = lv.index_select(0, ok);
                var kept = Nms.Batched(boxes, scores, lv, settings.NmsThreshold);
                kept = kept[..(int)Math.Min(postN, kept.shape[0])];
                proposals.Add(boxes.index_select(0, kept));
            }
        }
        var losses = new Dictionary<string, Tensor>();
        if (targets != null)
        {
            long sampledTotal = 0;
            var objTerms = new List<Tensor>(); var boxTerms = new List<Tensor>();
            for (int i = 0; i < n; i++)
            {
                var gt = targets[i];
                var (pos, neg, matched) = SampleAnchors(anchors, gt, generator);
                var sampled = cat([pos, neg], 0);
                sampledTotal += sampled.shape[0];
                var target = cat([ones(pos.shape[0], device: dev), zeros(neg.shape[0], device: dev)], 0);
                objTerms.Add(nn.functional.binary_cross_entropy_with_logits(logits[i].index_select(0, sampled), target, reduction: nn.Reduction.Sum));
                if (pos.shape[0] > 0)
                {
                    var reg = coder.Encode(anchors.index_select(0, pos), gt.index_select(0, matched.index_select(0, pos)));
                    boxTerms.Add(nn.functional.smooth_l1_loss(deltas[i].index_select(0, pos), reg, reduction: nn.Reduction.Sum, beta: 1.0 / 9));
                }
            }
            double denom = Math.Max(1, sampledTotal);
            losses["rpn_objectness"] = stack(objTerms).sum() / denom;
            losses["rpn_box"] = boxTerms.Count > 0 ? stack(boxTerms).sum() / denom : deltas.sum() * 0;
        }
        return (proposals, losses);
    }

    /// <summary>Anchor targets of one image (Faster R-CNN §3.1.2): anchors with IoU ≥ FgIou to a GT box, or a GT's
    /// best anchor, are positive; IoU &lt; BgIou negative; the rest ignored. Then at most BatchSizePerImage anchors with at
    /// most PositiveFraction positives. Shapes: anchors [A, 4], gt [G, 4] → positive, negative indices into the anchors
    /// and the matched GT index per anchor [A].</summary>
    public (Tensor Positive, Tensor Negative, Tensor MatchedGt) SampleAnchors(Tensor anchors, Tensor gt, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var (matched, labels) = Matcher.Match(BoxOps.Iou(gt, anchors), settings.FgIou, settings.BgIou, allowLowQuality: true);
        var (pos, neg) = BalancedSampler.Sample(labels, settings.BatchSizePerImage, settings.PositiveFraction, generator);
        return (pos.MoveToOuterDisposeScope(), neg.MoveToOuterDisposeScope(), matched.MoveToOuterDisposeScope());
    }
}
