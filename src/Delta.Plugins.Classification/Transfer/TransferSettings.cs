using Delta.Abstractions.Plugins;

namespace Delta.Plugins.Classification.Transfer;

/// <summary>The shared budget of a transfer comparison: every method and fraction gets the same data pool, augmentation,
/// optimizer steps, batch size and seed. As in the reference protocol, the budget is a number of steps, not epochs,
/// so a 15 % run trains as long as a 100 % run (on fewer distinct images).</summary>
public sealed record TransferSettings
{
    public string Architecture { get; init; } = "resnet18_cntk";
    public string Weights { get; init; } = "imagenet";
    public int ImageSize { get; init; } = 64;
    public int BatchSize { get; init; } = 32;
    public int Steps { get; init; } = 100;
    /// <summary>AdamW learning rate when the backbone itself trains (vanilla fine-tuning, Bi-Tuning); as PAINT's fine-tuning in <c>compare</c>.</summary>
    public double FineTuneLearningRate { get; init; } = 3e-4;
    /// <summary>AdamW learning rate of Δ-modules + heads on the frozen base; as the Δ runs in <c>compare</c>.</summary>
    public double DeltaLearningRate { get; init; } = 1e-2;
    public double WeightDecay { get; init; } = 1e-4;
    /// <summary>Random-resized-crop area range of the training views. Narrower than torchvision's (0.08, 1): the
    /// targets here are small centred objects (28x28 digits/clothes), which an 8 % crop would cut away.</summary>
    public (double Min, double Max) CropScale { get; init; } = (0.5, 1.0);
    public bool HorizontalFlip { get; init; } = true;
    public int Seed { get; init; }
    public BiTuningSettings BiTuning { get; init; } = new();

    public TrainingHyperParameters Hyper(double learningRate, long stepsPerEpoch) => new()
    {
        Epochs = (int)Math.Max(1, (Steps + stepsPerEpoch - 1) / Math.Max(1, stepsPerEpoch)), MaxSteps = Steps, BatchSize = BatchSize,
        LearningRate = learningRate, WeightDecay = WeightDecay, Optimizer = "adamw", Schedule = "cosine",
    };
}
