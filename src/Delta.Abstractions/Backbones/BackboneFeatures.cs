using TorchSharp;

namespace Delta.Abstractions.Backbones;

/// <summary>
/// Output of a Δ-backbone forward: stage features by name ("C2".."C5", each [N, C, H, W], see
/// <see cref="IDeltaBackbone.FeatureInfo"/>), the globally average-pooled last stage [N, C5], and,
/// when requested, the gates Λ of each Δ-augmented stage by stage name ([N, k(k+1)/2], pair order
/// (0,1),(0,2),(1,2),(0,3),... i.e. grouped by target block j, sources i ascending).
/// The tensors join the caller's dispose scope like any op result.
/// </summary>
public sealed record BackboneFeatures(
    IReadOnlyDictionary<string, torch.Tensor> Stages,
    torch.Tensor Pooled,
    IReadOnlyDictionary<string, torch.Tensor>? Gates)
{
    public torch.Tensor this[string stage] => Stages.TryGetValue(stage, out var t) ? t
        : throw new KeyNotFoundException($"No stage '{stage}'. Available: {string.Join(", ", Stages.Keys)}.");
}
