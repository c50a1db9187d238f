using Delta.Abstractions.Backbones;
using TorchSharp;

namespace Delta.Backbones.Registry;

/// <summary>
/// One way of filling a freshly built base model with weights ("random", "imagenet", a file path, …).
/// The registry asks each source in turn (<see cref="BackboneRegistry.DefaultWeightsSources"/> lists them)
/// and uses the first whose <see cref="CanLoad"/> is true.
/// </summary>
public interface IBaseWeightsSource
{
    /// <summary>True when this source understands <paramref name="weights"/> for <paramref name="arch"/>.</summary>
    bool CanLoad(string weights, BackboneInfo arch);

    /// <summary>Loads <paramref name="weights"/> strictly into <paramref name="baseModel"/> (every key, matching
    /// shapes; errors name the key) and returns the input preprocessing those weights expect.</summary>
    IInputPreprocessing Load(torch.nn.Module baseModel, string weights, BackboneInfo arch);

    /// <summary>One line for "unknown weights" errors, e.g. "random (deterministic seeded init)".</summary>
    string Description => GetType().Name;
}
