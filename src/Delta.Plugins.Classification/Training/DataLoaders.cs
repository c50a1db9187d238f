using Delta.Abstractions.Backbones;
using Delta.Data.Loading;
using Delta.Plugins.Classification.Data;

namespace Delta.Plugins.Classification.Training;

/// <summary>The three loaders of a task for a given backbone: shuffled training batches, ordered val and test.</summary>
public sealed record DataLoaders(BatchLoader Train, BatchLoader? Val, BatchLoader Test)
{
    public static DataLoaders For(TaskData data, IDeltaBackbone backbone, int size, int batchSize, int seed, bool flip = false) => new(
        new BatchLoader(data.Train, data.TrainIndices, batchSize, size, backbone.Preprocessing, backbone.Device) { Shuffle = true, Seed = seed, HorizontalFlip = flip },
        data.ValIndices.Count == 0 ? null : new BatchLoader(data.Train, data.ValIndices, 256, size, backbone.Preprocessing, backbone.Device),
        new BatchLoader(data.Test, data.TestIndices, 256, size, backbone.Preprocessing, backbone.Device));
}
