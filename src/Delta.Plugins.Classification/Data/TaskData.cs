using Delta.Data.Datasets;

namespace Delta.Plugins.Classification.Data;

/// <summary>A classification task's data: one source dataset (or a train and a test dataset) and the index splits.</summary>
public sealed record TaskData(string Name, IImageDataset Train, IImageDataset Test, IReadOnlyList<int> TrainIndices, IReadOnlyList<int> ValIndices, IReadOnlyList<int> TestIndices)
{
    public IReadOnlyList<string> ClassNames => Train.ClassNames;
}
