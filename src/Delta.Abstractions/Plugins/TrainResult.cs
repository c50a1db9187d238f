using Delta.Abstractions.Patches;

namespace Delta.Abstractions.Plugins;

/// <summary>What training produced: the saved patch, final metrics, and files written (pictures, tables).</summary>
public sealed record TrainResult(PatchSummary Patch, IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<string> Artifacts);
