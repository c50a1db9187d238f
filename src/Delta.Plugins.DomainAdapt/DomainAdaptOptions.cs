using Delta.Abstractions.Plugins;
using Delta.Plugins.DomainAdapt.Data;

namespace Delta.Plugins.DomainAdapt;

/// <summary>Job options: which real digit domains to adapt between and the ADDA + Δ budget.</summary>
public sealed class DomainAdaptOptions : ITaskOptions
{
    public string Source { get; set; } = "mnist";
    public string Target { get; set; } = "optdigits";
    public int ImageSize { get; set; } = 32;
    public int DeltaStages { get; set; } = 4;
    public bool UniformPrior { get; set; }
    public int TrainPerDomain { get; set; } = 1000;
    public int TestPerDomain { get; set; } = 500;
    public int BatchSize { get; set; } = 32;
    public int SourceSteps { get; set; } = 100;
    public int AdaptSteps { get; set; } = 100;
    public int Seed { get; set; }
    /// <summary>predict: classify with the "target" Δ-modules (ADDA's target encoder, the default) or the "source" ones.</summary>
    public string PredictWith { get; set; } = "target";

    public IEnumerable<string> Validate()
    {
        foreach (var (key, v) in new[] { ("source", Source), ("target", Target) })
            if (!DigitDomains.Names.Contains(v.ToLowerInvariant())) yield return $"options.{key} must be one of {string.Join(", ", DigitDomains.Names)} (got '{v}').";
        if (string.Equals(Source, Target, StringComparison.OrdinalIgnoreCase)) yield return "options.source and options.target must differ.";
        if (ImageSize is < 16 or > 224) yield return $"options.imageSize must be in 16..224 (got {ImageSize}).";
        if (DeltaStages is < 1 or > 4) yield return $"options.deltaStages must be in 1..4: the target patch adapts Δ-modules only (got {DeltaStages}).";
        if (TrainPerDomain < 20) yield return $"options.trainPerDomain must be ≥ 20 (got {TrainPerDomain}).";
        if (TestPerDomain < 10) yield return $"options.testPerDomain must be ≥ 10 (got {TestPerDomain}).";
        if (PredictWith.ToLowerInvariant() is not ("target" or "source")) yield return $"options.predictWith must be 'target' or 'source' (got '{PredictWith}').";
        foreach (var p in Methods().Validate()) yield return "options." + p;
    }

    public Methods.MethodSettings Methods() => new() { BatchSize = BatchSize, SourceSteps = SourceSteps, AdaptSteps = AdaptSteps };
}
