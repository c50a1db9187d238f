using static TorchSharp.torch;

namespace Delta.Data.Datasets;

/// <summary>
/// A labelled image dataset, read lazily: <see cref="Load"/> returns item i as float [C, H, W] in [0, 1]
/// (C = 1 for greyscale sources, 3 for colour). Labels are class indices into <see cref="ClassNames"/>.
/// </summary>
public interface IImageDataset
{
    string Name { get; }
    IReadOnlyList<string> ClassNames { get; }
    int Count { get; }
    int Label(int index);
    Tensor Load(int index);
}
