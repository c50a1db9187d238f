using Delta.Plugins.DomainAdapt.Methods;

namespace Delta.Plugins.DomainAdapt.Experiments;

/// <summary>What one Table-6 run covers: pairs, backbone, input size, subset sizes, seeds and the method budget.</summary>
public sealed record ExperimentSettings
{
    public IReadOnlyList<AdaptPair> Pairs { get; init; } = [new("mnist", "optdigits"), new("optdigits", "mnist")];
    public string Architecture { get; init; } = "resnet18_cntk";
    public string Weights { get; init; } = "imagenet";
    public int ImageSize { get; init; } = 32;
    /// <summary>Δ-Networks(n) for the Δ rows (the paper's Table 6 uses Δ(4)).</summary>
    public int DeltaStages { get; init; } = 4;
    /// <summary>At most this many training images per domain (labelled on the source side, unlabelled on the target side).</summary>
    public int TrainPerDomain { get; init; } = 1000;
    /// <summary>At most this many held-out test images per domain (never trained on).</summary>
    public int TestPerDomain { get; init; } = 500;
    public IReadOnlyList<int> Seeds { get; init; } = [0, 1, 2];
    public MethodSettings Method { get; init; } = new();
}
