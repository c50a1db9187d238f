using Delta.Abstractions.Plugins;

namespace Delta.Plugins.Classification.Experiments;

/// <summary>The shared budget of a comparison: every method sees the same data, epochs, batch size and seed.</summary>
public sealed record ExperimentSettings
{
    public string Architecture { get; init; } = "resnet18_cntk";
    public string Weights { get; init; } = "imagenet";
    public int ImageSize { get; init; } = 64;
    public int Epochs { get; init; } = 3;
    public int BatchSize { get; init; } = 64;
    /// <summary>Learning rate of Δ-modules + head (AdamW). Equal to <see cref="HeadLearningRate"/> so that the new
    /// head trains at the same rate in the Δ and FC-only runs: with 2e-3 here (and 1e-2 for FC-only) the 3-epoch demo had
    /// Δ(1) at 90.4 % vs FC-only 91.0 % on MNIST; at 1e-2 for both, Δ(1) reached 96.0 % (delta compare, 2026-11-26).</summary>
    public double DeltaLearningRate { get; init; } = 1e-2;
    /// <summary>Learning rate of a head on frozen features (FC-only, base probe).</summary>
    public double HeadLearningRate { get; init; } = 1e-2;
    /// <summary>Learning rate of full fine-tuning (PAINT's first step).</summary>
    public double FineTuneLearningRate { get; init; } = 3e-4;
    public double WeightDecay { get; init; } = 1e-4;
    /// <summary>Epochs of the base task's linear probe (on cached features; cheap).</summary>
    public int ProbeEpochs { get; init; } = 20;
    public int Seed { get; init; }
    /// <summary>PAINT picks α on held-out images: each task's validation split, or where it has none, up to this many
    /// images per class that no split uses (see <see cref="PatchingExperiment.Paint"/>).</summary>
    public int PaintValidationPerClass { get; init; } = 50;

    public TrainingHyperParameters Hyper(double lr) => new()
    {
        Epochs = Epochs, BatchSize = BatchSize, LearningRate = lr, WeightDecay = WeightDecay, Optimizer = "adamw", Schedule = "cosine",
    };
}
