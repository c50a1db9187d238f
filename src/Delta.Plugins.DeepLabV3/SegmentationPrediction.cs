using Delta.Abstractions.Plugins;

namespace Delta.Plugins.DeepLabV3;

/// <summary>One predicted image: the palette PNG of class indices, the overlay, and the classes present with their pixel share.</summary>
public sealed record SegmentationPrediction(string Input, string LabelPngPath, string OverlayPath, IReadOnlyDictionary<string, double> ClassShares)
    : Prediction(Input, OverlayPath)
{
    public override string Summary =>
        $"{Path.GetFileName(Input)}: " + string.Join(", ", ClassShares.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:P1}")) + $" → {LabelPngPath}";
}
