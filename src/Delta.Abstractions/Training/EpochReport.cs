namespace Delta.Abstractions.Training;

/// <summary>Mean training losses over an epoch, and validation metrics when the task has them.</summary>
public sealed record EpochReport(int Epoch, long Steps, IReadOnlyDictionary<string, double> MeanLosses, IReadOnlyDictionary<string, double> Validation, double Seconds);
