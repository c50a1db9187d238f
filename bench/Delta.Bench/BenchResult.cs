namespace Delta.Bench;

/// <summary>One measured figure: what, value and unit, and the settings it was measured under.</summary>
public sealed record BenchResult(string Suite, string Name, double Value, string Unit, IReadOnlyDictionary<string, string> Settings);
