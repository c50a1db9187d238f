namespace Delta.Abstractions.Plugins;

public sealed record PredictResult(IReadOnlyList<Prediction> Items);
