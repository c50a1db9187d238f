namespace Delta.Plugins.DomainAdapt.Experiments;

/// <summary>One (method, pair, seed) outcome. Source accuracies are measured with the source model before
/// and after adaptation; under Δ they must be equal exactly.</summary>
public sealed record RowResult(
    string Method,
    bool Delta,
    AdaptPair Pair,
    int Seed,
    double TargetAccuracy,
    double SourceAccuracyBefore,
    double SourceAccuracyAfter,
    long TargetTrainableParameters);
