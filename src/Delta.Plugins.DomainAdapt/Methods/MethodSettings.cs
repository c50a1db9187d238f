namespace Delta.Plugins.DomainAdapt.Methods;

/// <summary>
/// Budget and loss weights shared by every method. The uniform prior (Wang &amp; Isola's L_unif) is applied to
/// the backbone's globally pooled C5 features (the encoder output the classifier and the discriminator see),
/// with temperature <see cref="UniformTemperature"/> and weight <see cref="UniformWeight"/>:
/// source training minimises CE + w·L_unif(source features); ADDA + uniform adds w·L_unif(target features)
/// to the target encoder's adversarial loss.
/// </summary>
public sealed record MethodSettings
{
    public int BatchSize { get; init; } = 32;
    public int SourceSteps { get; init; } = 100;
    public int AdaptSteps { get; init; } = 100;
    /// <summary>Adam for the source encoder/classifier when the whole backbone trains (rows without Δ).</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Adam for Δ-modules + classifier (rows with Δ): new modules over a frozen base take a larger step
    /// than pretrained weights being fine-tuned (the classification plugin uses 1e-2 for Δ, 3e-4 for fine-tuning).</summary>
    public double DeltaLearningRate { get; init; } = 5e-3;
    /// <summary>ADDA (Tzeng et al. 2017) uses Adam with β1 = 0.5 for the target encoder and the discriminator.</summary>
    public double AdaptLearningRate { get; init; } = 2e-4;
    /// <summary>ADDA's target encoder when it is a set of Δ-modules (rows with Δ); the discriminator keeps <see cref="AdaptLearningRate"/>.</summary>
    public double AdaptDeltaLearningRate { get; init; } = 1e-3;

    /// <summary>Source/supervised learning rate for an encoder with or without Δ.</summary>
    public double SupervisedRate(bool delta) => delta ? DeltaLearningRate : LearningRate;

    /// <summary>ADDA target-encoder learning rate for an encoder with or without Δ.</summary>
    public double AdaptEncoderRate(bool delta) => delta ? AdaptDeltaLearningRate : AdaptLearningRate;
    public double UniformWeight { get; init; } = 0.5;
    public double UniformTemperature { get; init; } = Losses.UniformityLoss.DefaultTemperature;

    public IEnumerable<string> Validate()
    {
        if (BatchSize < 2) yield return $"batchSize must be ≥ 2 (the uniformity loss needs pairs); got {BatchSize}.";
        if (SourceSteps < 1) yield return $"sourceSteps must be ≥ 1; got {SourceSteps}.";
        if (AdaptSteps < 0) yield return $"adaptSteps must be ≥ 0; got {AdaptSteps}.";
        if (!(LearningRate > 0) || !(DeltaLearningRate > 0) || !(AdaptLearningRate > 0) || !(AdaptDeltaLearningRate > 0)) yield return "learning rates must be positive.";
        if (!(UniformWeight >= 0)) yield return $"uniformWeight must be ≥ 0; got {UniformWeight}.";
        if (!(UniformTemperature > 0)) yield return $"uniformTemperature must be > 0; got {UniformTemperature}.";
    }
}
