using Delta.Abstractions.Plugins;

namespace Delta.Plugins.DomainAdapt;

/// <summary>One image's top-k digits with probabilities, and which side of the patch classified it
/// ("target": ADDA's target-domain Δ-modules; "source": the source task's).</summary>
public sealed record DigitPrediction(string Input, string? RenderedImagePath, string Domain, IReadOnlyList<DigitScore> TopK) : Prediction(Input, RenderedImagePath)
{
    public override string Summary => $"[{Domain}] " + string.Join(", ", TopK.Select(t => $"{t.Label} {t.Probability:P1}"));
}

public sealed record DigitScore(string Label, double Probability);
