using Delta.Abstractions.Plugins;
using Delta.Plugins.DeepLabV3.Training;

namespace Delta.Plugins.DeepLabV3;

/// <summary>
/// DeepLab-V3 settings (job file "options"). <see cref="Mode"/> picks what trains; in mode "delta" the Δ stages
/// come from the job's "delta" section.
/// </summary>
public sealed class DeepLabV3Options : ITaskOptions
{
    /// <summary>"delta" (default, the paper's: frozen shared base + Δ + heads), "frozen" (frozen base without Δ, heads
    /// only) or "finetune" (full fine-tuning baseline on a private trainable copy of the base; no zero-drop guarantee,
    /// and its patch holds the whole fine-tuned backbone). See <see cref="SegmentationTrainingMode"/>.</summary>
    public string Mode { get; set; } = "delta";
    /// <summary>The parsed <see cref="Mode"/> (a method, not a property, so serialising unvalidated options never throws).</summary>
    public SegmentationTrainingMode ParseMode() => SegmentationTrainingModes.Parse(Mode);

    /// <summary>21 for VOC (background + 20 classes).</summary>
    public int NumClasses { get; set; } = 21;
    /// <summary>8 or 16: the backbone's dilation and the ASPP rates (6/12/18 at 16, doubled at 8).</summary>
    public int OutputStride { get; set; } = 16;
    public int CropSize { get; set; } = 513;
    public double MinScale { get; set; } = 0.5;
    public double MaxScale { get; set; } = 2.0;
    public bool Flip { get; set; } = true;
    public int HeadChannels { get; set; } = 256;
    /// <summary>Auxiliary FCN head on C4, weighted by <see cref="AuxLossWeight"/> in training (torchvision: 0.5).</summary>
    public bool AuxiliaryHead { get; set; } = true;
    public double AuxLossWeight { get; set; } = 0.5;
    /// <summary>The VOC segmentation split to train on. "train" is replaced by the SBD-augmented "train_aug" when
    /// <see cref="UseSbdTrainAug"/> is on and the dataset has it.</summary>
    public string TrainSplit { get; set; } = "train";
    /// <summary>Train on the SBD-augmented list when the dataset has it (ImageSets/Segmentation/train_aug.txt with masks in
    /// SegmentationClassAug/, as the common DeepLab setups lay it out; see Delta.Data.Voc.VocSegmentationReader) and
    /// <see cref="TrainSplit"/> is "train". The list must not share images with <see cref="ValSplit"/>.</summary>
    public bool UseSbdTrainAug { get; set; } = true;
    public string ValSplit { get; set; } = "val";
    /// <summary>Score at most this many validation images after each epoch (0 = all); the score recorded in the patch
    /// at the end is over the whole validation split.</summary>
    public int ValidationImages { get; set; }
    /// <summary>Colour overlays written by evaluate (the first N images).</summary>
    public int Overlays { get; set; } = 8;

    public IEnumerable<string> Validate()
    {
        if (!SegmentationTrainingModes.TryParse(Mode, out _))
            yield return $"options.mode must be one of {string.Join(", ", SegmentationTrainingModes.Names.Keys)} (got '{Mode}').";
        if (NumClasses is < 2 or > 255) yield return $"options.numClasses must be 2..255 (got {NumClasses}).";
        if (OutputStride is not (8 or 16)) yield return $"options.outputStride must be 8 or 16 (got {OutputStride}).";
        if (CropSize < 32) yield return $"options.cropSize must be ≥ 32 (got {CropSize}).";
        if (!(MinScale > 0) || !(MaxScale >= MinScale) || double.IsInfinity(MaxScale)) yield return $"options.minScale/maxScale must satisfy 0 < minScale ≤ maxScale (got {MinScale}, {MaxScale}).";
        if (HeadChannels < 1) yield return $"options.headChannels must be ≥ 1 (got {HeadChannels}).";
        if (!(AuxLossWeight >= 0) || double.IsInfinity(AuxLossWeight)) yield return $"options.auxLossWeight must be ≥ 0 (got {AuxLossWeight}).";
        if (ValidationImages < 0) yield return $"options.validationImages must be ≥ 0 (got {ValidationImages}).";
        if (Overlays < 0) yield return $"options.overlays must be ≥ 0 (got {Overlays}).";
    }
}
