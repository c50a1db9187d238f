namespace Delta.Abstractions.Plugins;

/// <summary>The optimisation settings every task shares; task-specific ones go in the plugin's options.</summary>
public sealed record TrainingHyperParameters
{
    public int Epochs { get; init; } = 1;
    /// <summary>Stop after this many optimizer steps in total (0 = no limit).</summary>
    public int MaxSteps { get; init; }
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 1e-4;
    public double Momentum { get; init; } = 0.9;
    /// <summary>"adamw" or "sgd".</summary>
    public string Optimizer { get; init; } = "adamw";
    /// <summary>"constant", "cosine", "poly" (power 0.9, DeepLab) or "step" (×0.1 at 2/3 of training).</summary>
    public string Schedule { get; init; } = "cosine";
    public int WarmupSteps { get; init; }
    /// <summary>Max global gradient norm (0 = off).</summary>
    public double GradClipNorm { get; init; }
    /// <summary>Checkpoint every N steps (0 = only at epoch ends and on shutdown).</summary>
    public int CheckpointEvery { get; init; }
    /// <summary>Stop when the monitored validation metric has not improved for this many epochs (0 = off).</summary>
    public int EarlyStoppingPatience { get; init; }

    public static readonly string[] Optimizers = ["adamw", "sgd"];
    public static readonly string[] Schedules = ["constant", "cosine", "poly", "step"];

    public IEnumerable<string> Validate(string prefix = "hyper")
    {
        if (Epochs < 1) yield return $"{prefix}.epochs must be ≥ 1 (got {Epochs}).";
        if (MaxSteps < 0) yield return $"{prefix}.maxSteps must be ≥ 0 (got {MaxSteps}).";
        if (BatchSize < 1) yield return $"{prefix}.batchSize must be ≥ 1 (got {BatchSize}).";
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) yield return $"{prefix}.learningRate must be a positive finite number (got {LearningRate}).";
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) yield return $"{prefix}.weightDecay must be ≥ 0 and finite (got {WeightDecay}).";
        if (!(Momentum >= 0 && Momentum < 1)) yield return $"{prefix}.momentum must be in [0, 1) (got {Momentum}).";
        if (!Optimizers.Contains(Optimizer, StringComparer.OrdinalIgnoreCase)) yield return $"{prefix}.optimizer '{Optimizer}' is unknown. Valid: {string.Join(", ", Optimizers)}.";
        if (!Schedules.Contains(Schedule, StringComparer.OrdinalIgnoreCase)) yield return $"{prefix}.schedule '{Schedule}' is unknown. Valid: {string.Join(", ", Schedules)}.";
        if (WarmupSteps < 0) yield return $"{prefix}.warmupSteps must be ≥ 0 (got {WarmupSteps}).";
        if (!(GradClipNorm >= 0) || double.IsInfinity(GradClipNorm)) yield return $"{prefix}.gradClipNorm must be ≥ 0 and finite (got {GradClipNorm}).";
        if (CheckpointEvery < 0) yield return $"{prefix}.checkpointEvery must be ≥ 0 (got {CheckpointEvery}).";
        if (EarlyStoppingPatience < 0) yield return $"{prefix}.earlyStoppingPatience must be ≥ 0 (got {EarlyStoppingPatience}).";
    }
}
