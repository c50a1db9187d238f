namespace Delta.Abstractions.Training;

public sealed record TrainOutcome(long Steps, IReadOnlyList<EpochReport> History, bool StoppedEarly, string? StopReason, bool Resumed);
