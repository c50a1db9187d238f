using Delta.Abstractions.Plugins;

namespace Delta.Plugins.Classification;

/// <summary>One image's top-k labels with probabilities; for a Δ patch also the pictures of this image's gates Λ
/// (the composite first, then one heat map per Δ stage).</summary>
public sealed record ClassificationPrediction(string Input, string? RenderedImagePath, IReadOnlyList<LabelScore> TopK, IReadOnlyList<string>? GateMaps = null)
    : Prediction(Input, RenderedImagePath)
{
    public override string Summary => string.Join(", ", TopK.Select(t => $"{t.Label} {t.Probability:P1}"));
}

public sealed record LabelScore(string Label, double Probability);
