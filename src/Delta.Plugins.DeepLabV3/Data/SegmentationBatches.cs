using Delta.Abstractions.Backbones;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>Shuffled, augmented training batches of one epoch (order and augmentation seeded by seed and epoch).</summary>
public sealed class SegmentationBatches(VocSegmentationDataset dataset, IInputPreprocessing preprocessing, Device device,
    int batchSize, int cropSize, double minScale, double maxScale, bool flip, long seed)
{
    public long BatchesPerEpoch => (dataset.Count + batchSize - 1) / batchSize;

    public IEnumerable<SegmentationBatch> Epoch(int epoch)
    {
        var random = new Random(unchecked((int)(seed * 7919 + epoch)));
        var order = Enumerable.Range(0, dataset.Count).OrderBy(_ => random.Next()).ToArray();
        var augment = new SegmentationAugmentation(cropSize, minScale, maxScale, flip, random.Next());
        for (int start = 0; start < order.Length; start += batchSize)
            yield return Load(order.Skip(start).Take(batchSize), augment);
    }

    // The dispose scope lives inside this method, never across a yield.
    private SegmentationBatch Load(IEnumerable<int> indices, SegmentationAugmentation augment)
    {
        using var scope = NewDisposeScope();
        var images = new List<Tensor>();
        var labels = new List<Tensor>();
        foreach (var i in indices)
        {
            using var sample = dataset.Get(i);
            // Normalise before padding, so the image pad value 0 is the mean colour (as DeepLab pads with the mean).
            var (image, label) = augment.Apply(preprocessing.Apply(sample.Image), sample.Label);
            images.Add(image);
            labels.Add(label);
        }
        return new SegmentationBatch(stack(images).to(device).MoveToOuterDisposeScope(), stack(labels).to(device).MoveToOuterDisposeScope());
    }
}
