namespace Delta.Plugins.Classification.Transfer;

/// <summary>Bi-Tuning's hyper-parameters; defaults are the reference implementation's (thuml TLlib <c>bi_tuning.py</c>).</summary>
public sealed record BiTuningSettings
{
    /// <summary>Keys kept per class in each queue.</summary>
    public int KeysPerClass { get; init; } = 40;
    /// <summary>Key encoder momentum m in k ← m·k + (1 − m)·q.</summary>
    public double Momentum { get; init; } = 0.999;
    /// <summary>Temperature τ of both contrastive terms.</summary>
    public double Temperature { get; init; } = 0.07;
    public int ProjectionDim { get; init; } = 128;
    /// <summary>Weight of (projector term + classifier term) against the cross entropy.</summary>
    public double TradeOff { get; init; } = 1.0;

    public IEnumerable<string> Validate()
    {
        if (KeysPerClass < 1) yield return $"keys per class must be ≥ 1 (got {KeysPerClass}).";
        if (!(Momentum >= 0 && Momentum <= 1)) yield return $"momentum must be in [0, 1] (got {Momentum}).";
        if (!(Temperature > 0) || double.IsInfinity(Temperature)) yield return $"temperature must be a positive number (got {Temperature}).";
        if (ProjectionDim < 1) yield return $"projection dim must be ≥ 1 (got {ProjectionDim}).";
        if (!(TradeOff >= 0) || double.IsInfinity(TradeOff)) yield return $"trade-off must be ≥ 0 (got {TradeOff}).";
    }
}
