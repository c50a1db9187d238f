namespace Delta.Plugins.Classification.Data;

/// <summary>
/// Images of a task's training dataset that none of its splits uses. With a per-class cap or a train fraction, most of
/// a large dataset (MNIST's 60,000 training images against a cap of 100 per class) is never read; those images are
/// as unseen as the test split, so they can serve as held-out validation data without taking any image from the
/// training split — the other methods of a comparison train on exactly the images they trained on before.
/// </summary>
public static class UnusedImages
{
    /// <summary>Up to <paramref name="perClass"/> unused images of each class, drawn with <paramref name="seed"/>, sorted;
    /// empty when the splits use every image.</summary>
    public static IReadOnlyList<int> Draw(TaskData data, int perClass, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        var used = new HashSet<int>(data.TrainIndices);
        used.UnionWith(data.ValIndices);
        if (ReferenceEquals(data.Train, data.Test)) used.UnionWith(data.TestIndices);   // one dataset split three ways
        return DatasetResolver.Cap(data.Train, Enumerable.Range(0, data.Train.Count).Where(i => !used.Contains(i)), perClass, seed);
    }
}
