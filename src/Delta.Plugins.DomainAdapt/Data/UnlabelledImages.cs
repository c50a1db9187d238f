using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Data;

/// <summary>
/// Target-domain images [N, 3, S, S] in [0, 1] and nothing else. Adaptation methods take this type for the
/// target, so target labels cannot reach training: the rule "no target labels in adaptation rows" is structural.
/// </summary>
public sealed class UnlabelledImages : IDisposable
{
    public UnlabelledImages(string name, Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != 3) throw new ArgumentException($"{name}: images must be [N, 3, H, W]; got [{string.Join(", ", images.shape)}].");
        Name = name; Images = images;
    }

    public string Name { get; }
    public Tensor Images { get; }
    public int Count => (int)Images.shape[0];

    public void Dispose() => Images.Dispose();
}
