using static TorchSharp.torch;

namespace Delta.Data.Transforms;

/// <summary>
/// One step of per-item preprocessing or augmentation on a CPU image float [C, H, W] in [0, 1]. Randomness comes
/// only from <paramref name="rng"/>, which the loader seeds per item (seed, epoch, position), so a run is reproducible
/// whatever thread decodes the item. Returns a new tensor; the input stays owned by the caller.
/// </summary>
public interface IImageTransform
{
    Tensor Apply(Tensor chw, Random rng);
}
