namespace Delta.Plugins.Classification.Experiments;

/// <summary>One row of a Table-2-style report. BaseAfter == BaseBefore exactly for every method that leaves the
/// base untouched; <see cref="BaseLogitsIdentical"/> records the stronger check (logits bit-identical).</summary>
public sealed record MethodResult(
    string Method, string Backbone, string Task, double BaseBefore, double BaseAfter, double Patched, double HarmonicMean,
    long TrainableParameters, long PatchBytes, string PatchKind, bool? BaseLogitsIdentical, double Seconds, IReadOnlyList<double> EpochLosses,
    string? Note = null);
