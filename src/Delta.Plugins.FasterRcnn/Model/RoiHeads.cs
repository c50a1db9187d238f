using Delta.Plugins.FasterRcnn.Losses;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>Settings of the Fast R-CNN stage (torchvision defaults).</summary>
public sealed record RoiHeadSettings(
    double FgIou = 0.5, double BgIou = 0.5, int BatchSizePerImage = 512, double PositiveFraction = 0.25,
    double ScoreThreshold = 0.05, double NmsThreshold = 0.5, int DetectionsPerImage = 100, double MinSize = 1e-2);

/// <summary>Detections of one image: boxes [D, 4] xyxy (continuous pixels of the network input), scores [D], labels [D] (1-based classes).</summary>
public sealed record Detections(Tensor Boxes, Tensor Scores, Tensor Labels) : IDisposable
{
    public void Dispose() { Boxes.Dispose(); Scores.Dispose(); Labels.Dispose(); }
}

/// <summary>
/// The second stage: proposals (plus the GT boxes while training) are matched and sampled, pooled with multi-level
/// RoIAlign, classified by the box head (two FCs for FPN, stage 5 for C4) and refined with class-specific deltas (BoxCoder weights 10,10,5,5).
/// Loss: cross entropy over sampled RoIs + smooth-L1 (β = 1/9) on the positives' own-class deltas, divided by the
/// number of sampled RoIs (torchvision's fastrcnn_loss).
/// Inference: softmax, per-class decode, clip, score threshold, class-wise batched NMS, top detections per image.
/// Shapes: head deltas [K, (C+1)*4] → view [K, C+1, 4]; per-class boxes [K, C+1, 4] → drop background → flatten [K*C, 4].
/// </summary>
public sealed class RoiHeads(MultiScaleRoiAlign pooler, nn.Module<Tensor, (Tensor Scores, Tensor Deltas)> head, int numClasses, RoiHeadSettings settings)
{
    private readonly BoxCoder coder = new(10, 10, 5, 5);

    public nn.Module<Tensor, (Tensor Scores, Tensor Deltas)> Head => head;

    public IReadOnlyDictionary<string, Tensor> Losses(IReadOnlyList<Tensor> levels, IReadOnlyList<Tensor> proposals,
        IReadOnlyList<Tensor> gtBoxes, IReadOnlyList<Tensor> gtLabels, Generator? generator = null)
    {
        var dev = levels[0].device;
        var rois = new List<Tensor>(); var labels = new List<Tensor>(); var regTargets = new List<Tensor>();
        for (int i = 0; i < proposals.Count; i++)
        {
            var sample = SampleProposals(proposals[i], gtBoxes[i], gtLabels[i], generator);
            rois.Add(cat([full(sample.Boxes.shape[0], 1, (double)i, device: dev), sample.Boxes], 1));
            labels.Add(sample.Labels); regTargets.Add(sample.RegressionTargets);
        }
        var (scores, deltas) = head.call(pooler.Apply(levels, cat(rois, 0)));
        var (clsLoss, boxLoss) = FastRcnnLoss(scores, deltas, cat(labels, 0), cat(regTargets, 0));
        return new Dictionary<string, Tensor> { ["roi_cls"] = clsLoss, ["roi_box"] = boxLoss };
    }

    /// <summary>One image's training RoIs: proposals plus the GT boxes themselves, matched to GT (IoU ≥ FgIou: that GT's
    /// class; &lt; BgIou: background), then at most BatchSizePerImage with at most PositiveFraction foreground.
    /// Shapes: proposals [R, 4], gtBoxes [G, 4], gtLabels [G] → boxes [S, 4] (positives first), labels [S] (0 = background),
    /// regression targets [S, 4] (BoxCoder 10,10,5,5 towards the matched GT; meaningless for background).</summary>
    public (Tensor Boxes, Tensor Labels, Tensor RegressionTargets) SampleProposals(Tensor proposals, Tensor gtBoxes, Tensor gtLabels, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var dev = proposals.device;
        var cand = cat([proposals, gtBoxes.to_type(proposals.dtype)], 0);                       // GT boxes are proposals too
        var (matched, lab) = Matcher.Match(BoxOps.Iou(gtBoxes, cand), settings.FgIou, settings.BgIou, allowLowQuality: false);
        var (pos, neg) = BalancedSampler.Sample(lab, settings.BatchSizePerImage, settings.PositiveFraction, generator);
        var idx = cat([pos, neg], 0);
        var boxes = cand.index_select(0, idx);
        var cls = gtLabels.shape[0] == 0
            ? zeros(idx.shape[0], dtype: ScalarType.Int64, device: dev)
            : cat([gtLabels.index_select(0, matched.index_select(0, pos)), zeros(neg.shape[0], dtype: ScalarType.Int64, device: dev)], 0);
        var reg = gtBoxes.shape[0] == 0 ? zeros(idx.shape[0], 4, device: dev)
            : coder.Encode(boxes, gtBoxes.index_select(0, matched.index_select(0, idx)));
        return (boxes.MoveToOuterDisposeScope(), cls.MoveToOuterDisposeScope(), reg.MoveToOuterDisposeScope());
    }

    /// <summary>Fast R-CNN loss (torchvision's fastrcnn_loss): cross entropy over all sampled RoIs, and smooth-L1 (β = 1/9)
    /// between each foreground RoI's deltas FOR ITS OWN CLASS and its targets, summed and divided by the number of RoIs.
    /// Shapes: scores [K, C+1], deltas [K, (C+1)*4], labels [K], targets [K, 4].</summary>
    public static (Tensor Classification, Tensor Box) FastRcnnLoss(Tensor scores, Tensor deltas, Tensor labels, Tensor regressionTargets)
    {
        using var scope = NewDisposeScope();
        var clsLoss = nn.functional.cross_entropy(scores, labels);
        var posIdx = labels.gt(0).nonzero().flatten();
        var k = deltas.shape[0];
        var perClass = deltas.view(k, -1, 4);                                                   // [K, C+1, 4]
        var posDeltas = perClass.index_select(0, posIdx).gather(1, labels.index_select(0, posIdx).view(-1, 1, 1).expand(-1, 1, 4)).squeeze(1); // [P, 4]
        var boxLoss = nn.functional.smooth_l1_loss(posDeltas, regressionTargets.index_select(0, posIdx), reduction: nn.Reduction.Sum, beta: 1.0 / 9) / Math.Max(1, k);
        return (clsLoss.MoveToOuterDisposeScope(), boxLoss.MoveToOuterDisposeScope());
    }

    public IReadOnlyList<Detections> Detect(IReadOnlyList<Tensor> levels, IReadOnlyList<Tensor> proposals, IReadOnlyList<(int H, int W)> imageSizes)
    {
        var dev = levels[0].device;
        var rois = cat(proposals.Select((p, i) => cat([full(p.shape[0], 1, (double)i, device: dev), p], 1)).ToList(), 0);
        var (scores, deltas) = head.call(pooler.Apply(levels, rois));
        var probs = nn.functional.softmax(scores, 1);                                          // [K, C+1]
        var results = new List<Detections>();
        long offset = 0;
        for (int i = 0; i < proposals.Count; i++)
        {
            long r = proposals[i].shape[0];
            var sl = TensorIndex.Slice(offset, offset + r);
            offset += r;
            results.Add(PostProcess(probs[sl], deltas[sl], proposals[i], imageSizes[i]));
        }
        return results;
    }

    /// <summary>One image's detections: per-class decode, clip, drop scores ≤ ScoreThreshold and tiny boxes, class-wise NMS,
    /// keep the DetectionsPerImage best. Shapes: probs [R, C+1] (softmax, column 0 = background), deltas [R, (C+1)*4],
    /// proposals [R, 4] → per-class boxes [R, C, 4] → flattened [R*C, 4] (class-minor) → kept [D, 4], by descending score.</summary>
    public Detections PostProcess(Tensor probs, Tensor deltas, Tensor proposals, (int H, int W) imageSize)
    {
        using var scope = NewDisposeScope();
        var dev = probs.device;
        long r = proposals.shape[0];
        var boxes = coder.Decode(deltas, proposals).view(r, -1, 4)[.., 1..];                  // [R, C, 4] (no background)
        boxes = BoxOps.Clip(boxes.reshape(-1, 4), imageSize.H, imageSize.W);                  // [R*C, 4]
        var sc = probs[.., 1..].reshape(-1);                                                   // [R*C]
        var lb = arange(1, numClasses + 1, dtype: ScalarType.Int64, device: dev).repeat(r);    // [R*C], class-minor like the reshape
        var keep = sc.gt(settings.ScoreThreshold).logical_and(BoxOps.NotSmall(boxes, settings.MinSize)).nonzero().flatten();
        boxes = boxes.index_select(0, keep); sc = sc.index_select(0, keep); lb = lb.index_select(0, keep);
        var kept = Nms.Batched(boxes, sc, lb, settings.NmsThreshold);
        kept = kept[..(int)Math.Min(settings.DetectionsPerImage, kept.shape[0])];
        return new Detections(boxes.index_select(0, kept).MoveToOuterDisposeScope(), sc.index_select(0, kept).MoveToOuterDisposeScope(),
            lb.index_select(0, kept).MoveToOuterDisposeScope());
    }
}
