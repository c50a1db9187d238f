namespace Delta.Abstractions.Backbones;

/// <summary>Catalog entry: an architecture the registry can build.</summary>
/// <param name="Name">Registry name, e.g. "resnet18", "resnet18_cntk", "convnext_tiny".</param>
/// <param name="Family">"resnet-basic", "resnet-bottleneck" or "convnext".</param>
/// <param name="BlocksPerStage">Sub-blocks per stage, e.g. [2,2,2,2].</param>
/// <param name="PretrainedWeights">Named weights available offline ("imagenet"), empty if none.</param>
/// <param name="Description">One line for listings.</param>
public sealed record BackboneInfo(
    string Name,
    string Family,
    IReadOnlyList<int> BlocksPerStage,
    IReadOnlyList<FeatureInfo> Features,
    IReadOnlyList<string> PretrainedWeights,
    string Description);
