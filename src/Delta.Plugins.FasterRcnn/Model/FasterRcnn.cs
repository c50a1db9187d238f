using Delta.Abstractions.Backbones;
using Delta.Plugins.FasterRcnn.Data;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// Faster R-CNN with FPN on a Δ-backbone: backbone stages → FPN → RPN → multi-level RoIAlign → box head → post-processing.
/// The module owns the detector heads (FPN, RPN head, box head); the backbone is the registry's (its trainable
/// parameters are the Δ-modules, or the whole base for full fine-tuning). In training <see cref="Losses"/> returns the
/// named losses rpn_objectness, rpn_box, roi_cls, roi_box; in eval <see cref="Detect"/> returns boxes per image.
/// </summary>
public sealed class FasterRcnn : nn.Module
{
    private readonly FeaturePyramid fpn;
    private readonly RpnHead rpn_head;
    private readonly BoxHead box_head;
    private readonly IDeltaBackbone backbone;
    private readonly RegionProposalNetwork rpn;
    private readonly RoiHeads roiHeads;
    private readonly DetectorSettings settings;

    public IDeltaBackbone Backbone => backbone;
    public DetectorSettings Settings => settings;

    public FasterRcnn(IDeltaBackbone backbone, DetectorSettings settings) : base(nameof(FasterRcnn))
    {
        this.backbone = backbone;
        this.settings = settings;
        var info = settings.Stages.Select(s => backbone.FeatureInfo.FirstOrDefault(f => f.Name == s)
            ?? throw new ArgumentException($"Backbone has no stage '{s}'. Available: {string.Join(", ", backbone.FeatureInfo.Select(f => f.Name))}.")).ToList();
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
        roiHeads = new RoiHeads(new MultiScaleRoiAlign(strides, settings.RoiOutputSize, settings.RoiSamplingRatio), box_head, settings.NumClasses, settings.RoiHeads);
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

    /// <summary>FPN levels P_k (finest first) plus the pool level.</summary>
    private IReadOnlyList<Tensor> Pyramid(Tensor images)
    {
        var feats = backbone.Forward(images);
        return fpn.call(settings.Stages.Select(s => feats[s]).ToList());
    }

    public IReadOnlyDictionary<string, Tensor> Losses(DetectionBatch batch, Generator? generator = null)
    {
        var levels = Pyramid(batch.Images);
        var (proposals, rpnLosses) = rpn.Forward(levels, batch.Sizes, batch.Boxes, training: true, generator);
        var roiLosses = roiHeads.Losses(levels.Take(levels.Count - 1).ToList(), proposals, batch.Boxes, batch.Labels, generator);
        return rpnLosses.Concat(roiLosses).ToDictionary();
    }

    /// <summary>Detections per image in the network input's coordinates (call under no_grad, in eval mode).</summary>
    public IReadOnlyList<Detections> Detect(Tensor images, IReadOnlyList<(int H, int W)> sizes)
    {
        using var scope = NewDisposeScope();
        var levels = Pyramid(images);
        var (proposals, _) = rpn.Forward(levels, sizes, null, training: false);
        var dets = roiHeads.Detect(levels.Take(levels.Count - 1).ToList(), proposals, sizes);
        foreach (var d in dets) { d.Boxes.MoveToOuterDisposeScope(); d.Scores.MoveToOuterDisposeScope(); d.Labels.MoveToOuterDisposeScope(); }
        return dets;
    }
}
