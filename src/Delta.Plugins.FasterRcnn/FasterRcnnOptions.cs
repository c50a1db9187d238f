using Delta.Abstractions.Plugins;

namespace Delta.Plugins.FasterRcnn;

/// <summary>
/// Faster R-CNN settings (job file "options"). The dataset is a VOCdevkit folder; training reads
/// VOC&lt;year&gt;/ImageSets/Main/&lt;TrainSplit&gt;.txt for every year in <see cref="TrainYears"/>, the final evaluation reads
/// <see cref="TestYear"/>/<see cref="TestSplit"/>. Steps, batch size and learning rate come from the job's "hyper" section.
/// </summary>
public sealed class FasterRcnnOptions : ITaskOptions
{
    /// <summary>What trains besides the heads: "delta" (frozen backbone + Δ, the paper's; default), "frozen" (frozen backbone,
    /// heads only) or "finetune" (full fine-tuning baseline, no zero-drop guarantee). See <see cref="TrainingMode"/>.</summary>
    public string Mode { get; set; } = "delta";
    /// <summary>"fpn" (default: FPN over <see cref="Stages"/>, two-FC box head) or "c4" (RPN and RoIAlign on C4, the
    /// backbone's own stage 5 as box head; <see cref="Stages"/>, <see cref="FpnChannels"/> and
    /// <see cref="RepresentationSize"/> do not apply, and every anchor size is used on the one C4 level).</summary>
    public string Head { get; set; } = "fpn";

    public static IReadOnlyDictionary<string, Model.HeadKind> HeadNames { get; } = new Dictionary<string, Model.HeadKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["fpn"] = Model.HeadKind.Fpn,
        ["c4"] = Model.HeadKind.C4,
    };

    /// <summary>A method, not a property, so the options' JSON shape stays exactly the settable keys.</summary>
    public Model.HeadKind ParseHead() => HeadNames.TryGetValue(Head ?? "", out var kind) ? kind
        : throw new ArgumentException($"options.head '{Head}' is unknown. Valid: {string.Join(", ", HeadNames.Keys)}.");
    public IReadOnlyList<string> TrainYears { get; set; } = ["2007"];
    public string TrainSplit { get; set; } = "trainval";
    public string TestYear { get; set; } = "2007";
    public string TestSplit { get; set; } = "test";
    /// <summary>Shorter image side after resizing (paper: 600), capped so the longer side stays ≤ <see cref="MaxSize"/>.</summary>
    public int MinSize { get; set; } = 600;
    public int MaxSize { get; set; } = 1000;
    public bool HorizontalFlip { get; set; } = true;
    /// <summary>Backbone stages fed to the FPN, finest first.</summary>
    public IReadOnlyList<string> Stages { get; set; } = ["C2", "C3", "C4", "C5"];
    public int FpnChannels { get; set; } = 256;
    /// <summary>FPN: one anchor size per FPN level plus the pool level (Stages.Count + 1 entries). C4: all sizes on C4.</summary>
    public IReadOnlyList<double> AnchorSizes { get; set; } = [32, 64, 128, 256, 512];
    public int RepresentationSize { get; set; } = 1024;
    public int RpnBatchSizePerImage { get; set; } = 256;
    public int RoiBatchSizePerImage { get; set; } = 512;
    /// <summary>Detections scoring below this are dropped (VOC evaluation: 0.05).</summary>
    public double ScoreThreshold { get; set; } = 0.05;
    public int DetectionsPerImage { get; set; } = 100;
    /// <summary>Boxes drawn by predict only above this score.</summary>
    public double DrawThreshold { get; set; } = 0.5;
    public int EvalBatchSize { get; set; } = 4;

    public IEnumerable<string> Validate()
    {
        if (!TrainingModes.TryParse(Mode, out _)) yield return $"options.mode '{Mode}' is unknown. Valid: {string.Join(", ", TrainingModes.Names.Keys)}.";
        if (TrainYears.Count == 0) yield return "options.trainYears must name at least one year.";
        if (string.IsNullOrWhiteSpace(TrainSplit)) yield return "options.trainSplit must not be empty.";
        if (string.IsNullOrWhiteSpace(TestSplit)) yield return "options.testSplit must not be empty.";
        if (MinSize < 32) yield return $"options.minSize must be ≥ 32 (got {MinSize}).";
        if (MaxSize < MinSize) yield return $"options.maxSize must be ≥ options.minSize (got {MaxSize} < {MinSize}).";
        if (Stages.Count == 0) yield return "options.stages must name at least one backbone stage.";
        if (!HeadNames.ContainsKey(Head ?? "")) yield return $"options.head '{Head}' is unknown. Valid: {string.Join(", ", HeadNames.Keys)}.";
        bool c4 = HeadNames.TryGetValue(Head ?? "", out var kind) && kind == Model.HeadKind.C4;
        if (c4 && AnchorSizes.Count == 0) yield return "options.anchorSizes needs at least one size.";
        if (!c4 && AnchorSizes.Count != Stages.Count + 1) yield return $"options.anchorSizes needs {Stages.Count + 1} entries (one per stage plus the pool level), got {AnchorSizes.Count}.";
        if (AnchorSizes.Any(s => !(s > 0))) yield return "options.anchorSizes must all be > 0.";
        if (FpnChannels < 1) yield return $"options.fpnChannels must be ≥ 1 (got {FpnChannels}).";
        if (RepresentationSize < 1) yield return $"options.representationSize must be ≥ 1 (got {RepresentationSize}).";
        if (RpnBatchSizePerImage < 1) yield return $"options.rpnBatchSizePerImage must be ≥ 1 (got {RpnBatchSizePerImage}).";
        if (RoiBatchSizePerImage < 1) yield return $"options.roiBatchSizePerImage must be ≥ 1 (got {RoiBatchSizePerImage}).";
        if (!(ScoreThreshold is >= 0 and < 1)) yield return $"options.scoreThreshold must be in [0, 1) (got {ScoreThreshold}).";
        if (DetectionsPerImage < 1) yield return $"options.detectionsPerImage must be ≥ 1 (got {DetectionsPerImage}).";
        if (!(DrawThreshold is >= 0 and <= 1)) yield return $"options.drawThreshold must be in [0, 1] (got {DrawThreshold}).";
        if (EvalBatchSize < 1) yield return $"options.evalBatchSize must be ≥ 1 (got {EvalBatchSize}).";
    }
}
