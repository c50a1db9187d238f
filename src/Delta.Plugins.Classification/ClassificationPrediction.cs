using Delta.Abstractions.Plugins;

namespace Delta.Plugins.Classification;

/// <summary>One image's top-k labels with probabilities.</summary>
public sealed record ClassificationPrediction(string Input, string? RenderedImagePath, IReadOnlyList<LabelScore> TopK) : Prediction(Input, RenderedImagePath)
{
    public override string Summary => string.Join(", ", TopK.Select(t => $"{t.Label} {t.Probability:P1}"));
}

public sealed record LabelScore(string Label, double Probability);
