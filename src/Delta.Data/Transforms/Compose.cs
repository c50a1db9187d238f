using static TorchSharp.torch;

namespace Delta.Data.Transforms;

/// <summary>Applies transforms in order, freeing each intermediate image.</summary>
public sealed class Compose(params IImageTransform[] steps) : IImageTransform
{
    public IReadOnlyList<IImageTransform> Steps { get; } = steps;

    public Tensor Apply(Tensor chw, Random rng)
    {
        var x = chw;
        foreach (var step in Steps)
        {
            var next = step.Apply(x, rng);
            if (!ReferenceEquals(x, chw)) x.Dispose();
            x = next;
        }
        return ReferenceEquals(x, chw) ? chw.clone() : x;
    }
}
