namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>Architecture of the detector on top of the backbone. <see cref="Stages"/> are the backbone stages fed to the FPN
/// (finest first); each pyramid level gets anchors of one size (FPN paper: 32..512 over P2..P6).
/// With <see cref="Head"/> = C4 there is no FPN: all <see cref="AnchorSizes"/> go to the single C4 level, <see cref="Stages"/>,
/// <see cref="FpnChannels"/> and <see cref="RepresentationSize"/> are not used, and RoIAlign pools <see cref="C4RoiOutputSize"/>.</summary>
public sealed record DetectorSettings
{
    public HeadKind Head { get; init; } = HeadKind.Fpn;
    /// <summary>RoIAlign output on C4 for the C4 head (detectron/torchvision: 14, halved to 7 by stage 5's stride).</summary>
    public int C4RoiOutputSize { get; init; } = 14;
    public IReadOnlyList<string> Stages { get; init; } = ["C2", "C3", "C4", "C5"];
    public int FpnChannels { get; init; } = 256;
    /// <summary>One anchor size per pyramid level including the extra pool level (Stages.Count + 1 entries).</summary>
    public IReadOnlyList<double> AnchorSizes { get; init; } = [32, 64, 128, 256, 512];
    public IReadOnlyList<double> AspectRatios { get; init; } = [0.5, 1.0, 2.0];
    public int RoiOutputSize { get; init; } = 7;
    public int RoiSamplingRatio { get; init; } = 2;
    public int RepresentationSize { get; init; } = 1024;
    public int NumClasses { get; init; } = 20;
    public RpnSettings Rpn { get; init; } = new();
    public RoiHeadSettings RoiHeads { get; init; } = new();
}
