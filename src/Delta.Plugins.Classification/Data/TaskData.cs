using Delta.Data.Datasets;

namespace Delta.Plugins.Classification.Data;

/// <summary>A classification task's data: one source dataset (or a train and a test dataset), the index splits, and
/// the settings that made them from one dataset (<see cref="DatasetSplit"/>, recorded in the task's patches; null for
/// data put together otherwise, such as a joint task's concatenation).</summary>
public sealed record TaskData(string Name, IImageDataset Train, IImageDataset Test, IReadOnlyList<int> TrainIndices, IReadOnlyList<int> ValIndices, IReadOnlyList<int> TestIndices,
    DatasetSplit? Split = null)
{
    public IReadOnlyList<string> ClassNames => Train.ClassNames;
}
