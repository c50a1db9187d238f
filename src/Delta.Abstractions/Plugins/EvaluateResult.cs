namespace Delta.Abstractions.Plugins;

public sealed record EvaluateResult(IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<string> Artifacts);
