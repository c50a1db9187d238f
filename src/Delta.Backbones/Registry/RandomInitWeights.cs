using Delta.Abstractions.Backbones;
using Delta.Backbones.Architectures;
using TorchSharp;

namespace Delta.Backbones.Registry;

/// <summary>
/// "random": the architecture's reference initialisation drawn from a private generator with a fixed seed,
/// never from the global RNG, so the same architecture gives the same base (and base hash) in every process,
/// whatever the caller seeded or drew before. Preprocessing: torchvision ImageNet mean/std.
/// </summary>
public sealed class RandomInitWeights : IBaseWeightsSource
{
    public const string Name = "random";
    /// <summary>Fixed, so the base identity of "random" weights is a constant per architecture.</summary>
    public const ulong Seed = 20230101;

    public string Description => "random (deterministic seeded init, same in every process)";

    public bool CanLoad(string weights, BackboneInfo arch) => string.Equals(weights, Name, StringComparison.OrdinalIgnoreCase);

    public IInputPreprocessing Load(torch.nn.Module baseModel, string weights, BackboneInfo arch)
    {
        if (baseModel is not StagedBackbone staged)
            throw new ArgumentException($"Random init needs a Delta.Backbones architecture, got {baseModel.GetType().Name}.");
        using var generator = new torch.Generator(Seed);
        staged.ResetParameters(generator);
        return ImageNetPreprocessing.Instance;
    }
}
