namespace Delta.Plugins.Classification.Transfer;

/// <summary>One cell of the transfer table: a method trained on a fraction of the training pool, scored on the full test split.
/// <see cref="BaseIntact"/>: for frozen-base methods, whether after training the base weights' SHA-256 is unchanged and the
/// backbone with its Δ-modules dropped gives bit-identical features; null where the method fine-tunes the backbone.</summary>
public sealed record TransferRun(
    TransferMethod Method, double Fraction, int TrainImages, double Top1, long TrainableParameters, long Steps, double Seconds,
    IReadOnlyDictionary<string, double> FinalLosses, bool? BaseIntact);
