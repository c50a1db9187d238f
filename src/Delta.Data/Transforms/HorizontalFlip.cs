using static TorchSharp.torch;

namespace Delta.Data.Transforms;

/// <summary>Mirrors left-right with probability <see cref="P"/>.</summary>
public sealed class HorizontalFlip(double p = 0.5) : IImageTransform
{
    public double P { get; } = p is >= 0 and <= 1 ? p : throw new ArgumentOutOfRangeException(nameof(p));

    public Tensor Apply(Tensor chw, Random rng) => rng.NextDouble() < P ? chw.flip(2) : chw.clone();
}
