using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Data;

/// <summary>Images [N, 3, S, S] in [0, 1] with class labels [N] (int64). Owns its tensors.</summary>
public sealed class LabelledImages : IDisposable
{
    public LabelledImages(string name, Tensor images, Tensor labels)
    {
        if (images.dim() != 4 || images.shape[1] != 3) throw new ArgumentException($"{name}: images must be [N, 3, H, W]; got [{string.Join(", ", images.shape)}].");
        if (labels.dim() != 1 || labels.shape[0] != images.shape[0]) throw new ArgumentException($"{name}: {images.shape[0]} images but labels of shape [{string.Join(", ", labels.shape)}].");
        Name = name; Images = images; Labels = labels;
    }

    public string Name { get; }
    public Tensor Images { get; }
    public Tensor Labels { get; }
    public int Count => (int)Images.shape[0];

    /// <summary>The same images without their labels: what adaptation is allowed to see of the target.</summary>
    public UnlabelledImages WithoutLabels() => new(Name, Images.alias());

    public void Dispose() { Images.Dispose(); Labels.Dispose(); }
}
