using Delta.Abstractions.Backbones;
using Delta.Plugins.FasterRcnn.Data;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// Faster R-CNN on a Δ-backbone. FPN head (default): backbone stages → FPN → RPN → multi-level RoIAlign → two-FC box head
/// → post-processing. C4 head (<see cref="HeadKind.C4"/>): C4 → RPN and RoIAlign on C4 → the backbone's own stage 5 as
/// box head → post-processing.
/// The module owns the detector heads (FPN, RPN head, box head layers); the backbone is the registry's (its trainable
/// parameters are the Δ-modules, or the whole base for full fine-tuning; stage 5 in the C4 head is the backbone's, not a
/// copy). In training <see cref="Losses"/> returns the named losses rpn_objectness, rpn_box, roi_cls, roi_box; in eval
/// <see cref="Detect"/> returns boxes per image.
/// </summary>
public sealed class FasterRcnn : nn.Module
{
    private readonly FeaturePyramid? fpn;                               // null exactly when stage5 is set (C4 head)
    private readonly RpnHead rpn_head;
    private readonly nn.Module<Tensor, (Tensor Scores, Tensor Deltas)> box_head;
    private readonly IDeltaBackbone backbone;
    private readonly RegionProposalNetwork rpn;
    private readonly RoiHeads roiHeads;
    private readonly DetectorSettings settings;
    private readonly BackboneStageRunner? stage5;                      // C4 head only: the trunk and stage 5

    public IDeltaBackbone Backbone => backbone;
    public DetectorSettings Settings => settings;
    public RoiHeads RoiHeads => roiHeads;

    public FasterRcnn(IDeltaBackbone backbone, DetectorSettings settings) : base(nameof(FasterRcnn))
    {
        this.backbone = backbone;
        this.settings = settings;
        FeatureInfo Stage(string s) => backbone.FeatureInfo.FirstOrDefault(f => f.Name == s)
            ?? throw new ArgumentException($"Backbone has no stage '{s}'. Available: {string.Join(", ", backbone.FeatureInfo.Select(f => f.Name))}.");
        MultiScaleRoiAlign pooler;
        if (settings.Head == HeadKind.C4)
        {
            // One level: every anchor size at C4's stride (Faster R-CNN: 3 scales x 3 ratios; here AnchorSizes x AspectRatios).
            var c4 = Stage("C4");
            var c5 = Stage("C5");
            if (settings.AnchorSizes.Count == 0) throw new ArgumentException("AnchorSizes needs at least one size for the C4 head.");
            var generator = new AnchorGenerator(settings.AnchorSizes, settings.AspectRatios);
            rpn_head = new RpnHead(c4.Channels, generator.AnchorsPerLocation);
            stage5 = new BackboneStageRunner(backbone, "C5");
            box_head = new Res5BoxHead(stage5, c5.Channels, settings.NumClasses + 1);
            RegisterComponents();
            rpn = new RegionProposalNetwork(rpn_head, [generator], [c4.Stride], settings.Rpn);
            pooler = new MultiScaleRoiAlign([c4.Stride], settings.C4RoiOutputSize, settings.RoiSamplingRatio);
        }
        else
        {
            var info = settings.Stages.Select(Stage).ToList();
            backbone.ReturnStages = settings.Stages;                       // the FPN's inputs; the others are not kept
            if (settings.AnchorSizes.Count != info.Count + 1)
                throw new ArgumentException($"AnchorSizes needs {info.Count + 1} entries (one per FPN level plus the pool level), got {settings.AnchorSizes.Count}.");
            fpn = new FeaturePyramid(info.Select(f => f.Channels).ToList(), settings.FpnChannels);
            var strides = info.Select(f => f.Stride).ToList();
            var rpnStrides = strides.Append(strides[^1] * 2).ToList();
            var generators = settings.AnchorSizes.Select(s => new AnchorGenerator([s], settings.AspectRatios)).ToList();
            rpn_head = new RpnHead(settings.FpnChannels, generators[0].AnchorsPerLocation);
            box_head = new BoxHead(settings.FpnChannels * settings.RoiOutputSize * settings.RoiOutputSize, settings.RepresentationSize, settings.NumClasses + 1);
            RegisterComponents();
            rpn = new RegionProposalNetwork(rpn_head, generators, rpnStrides, settings.Rpn);
            pooler = new MultiScaleRoiAlign(strides, settings.RoiOutputSize, settings.RoiSamplingRatio);
        }
        roiHeads = new RoiHeads(pooler, box_head, settings.NumClasses, settings.RoiHeads);
        this.to(backbone.Device);
    }

    /// <summary>Detector head parameters (always trainable).</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> HeadParameters => parameters().ToList();

    /// <summary>What an optimizer gets: the backbone's trainable parameters (Δ, or all for fine-tuning) + the heads.</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> TrainableParameters => backbone.TrainableParameters.Concat(HeadParameters).ToList();

    public override void train(bool mode = true)
    {
        base.train(mode);
        backbone.Train(mode); // the shared base's BN stays in eval inside the backbone
        // A trainable base copy (fine-tuning) lives under "base." in the backbone's module: keep its BatchNorm on the
        // pretrained running statistics, since a few images per batch give useless batch statistics (torchvision's
        // detectors freeze them too). Its affine weights still train; Δ-modules' own BN ("delta.") trains as usual.
        foreach (var (name, m) in backbone.Module.named_modules())
            if (name.StartsWith("base.", StringComparison.Ordinal) && m is TorchSharp.Modules.BatchNorm2d) m.eval();
    }

    /// <summary>Feature maps for the RPN and for RoIAlign. FPN: P_k (finest first) plus the pool level for the RPN, P_k
    /// without it for RoIAlign. C4: the backbone's C4 for both; the backbone stops there, stage 5 runs per RoI in the box head.</summary>
    private (IReadOnlyList<Tensor> Rpn, IReadOnlyList<Tensor> Roi) Features(Tensor images)
    {
        if (stage5 is not null)
        {
            var c4 = stage5.ForwardThrough(images, "C4")["C4"];
            return ([c4], [c4]);
        }
        var feats = backbone.Forward(images);
        var levels = fpn!.call(settings.Stages.Select(s => feats[s]).ToList());
        return (levels, levels.Take(levels.Count - 1).ToList());
    }

    public IReadOnlyDictionary<string, Tensor> Losses(DetectionBatch batch, Generator? generator = null)
    {
        var (rpnLevels, roiLevels) = Features(batch.Images);
        var (proposals, rpnLosses) = rpn.Forward(rpnLevels, batch.Sizes, batch.Boxes, training: true, generator);
        var roiLosses = roiHeads.Losses(roiLevels, proposals, batch.Boxes, batch.Labels, generator);
        return rpnLosses.Concat(roiLosses).ToDictionary();
    }

    /// <summary>Detections per image in the network input's coordinates (call under no_grad, in eval mode).</summary>
    public IReadOnlyList<Detections> Detect(Tensor images, IReadOnlyList<(int H, int W)> sizes)
    {
        using var scope = NewDisposeScope();
        var (rpnLevels, roiLevels) = Features(images);
        var (proposals, _) = rpn.Forward(rpnLevels, sizes, null, training: false);
        var dets = roiHeads.Detect(roiLevels, proposals, sizes);
        foreach (var d in dets) { d.Boxes.MoveToOuterDisposeScope(); d.Scores.MoveToOuterDisposeScope(); d.Labels.MoveToOuterDisposeScope(); }
        return dets;
    }
}
