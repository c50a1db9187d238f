using Delta.Data.Datasets;
using Delta.Plugins.Classification.Data;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Tests.Data;

/// <summary>The images PAINT may pick α on when a task holds no validation split: none a split uses, at most the
/// asked number per class, the same ones for the same seed.</summary>
public sealed class UnusedImagesTests
{
    private static TensorImageDataset Dataset(int classes, int perClass) =>
        new("d", zeros(classes * perClass, 1, 4, 4), Enumerable.Range(0, classes * perClass).Select(i => i % classes).ToArray(),
            Enumerable.Range(0, classes).Select(c => $"c{c}").ToList());

    [Fact]
    public void OneDatasetSplitThreeWaysGivesOnlyImagesOfNoSplit()
    {
        using var d = Dataset(3, 40);                                        // 120 images, 40 per class
        var task = DatasetResolver.Split("t", d, d, new ClassificationOptions { TestFraction = 0.25, ValidationFraction = 0.1, MaxTrainPerClass = 10 }, seed: 4);
        var unused = UnusedImages.Draw(task, perClass: 5, seed: 9);
        Assert.Empty(unused.Intersect(task.TrainIndices));
        Assert.Empty(unused.Intersect(task.ValIndices));
        Assert.Empty(unused.Intersect(task.TestIndices));
        Assert.Equal([5, 5, 5], unused.GroupBy(d.Label).OrderBy(g => g.Key).Select(g => g.Count()));
        Assert.Equal(unused.Order(), unused);
        Assert.Equal(unused, UnusedImages.Draw(task, perClass: 5, seed: 9));
        Assert.NotEqual(unused, UnusedImages.Draw(task, perClass: 5, seed: 10));
    }

    [Fact]
    public void ATestSetOfItsOwnDoesNotHideTrainingImagesWithTheSameIndices()
    {
        using var train = Dataset(2, 30);
        using var test = Dataset(2, 10);
        var task = DatasetResolver.Split("t", train, test, new ClassificationOptions { ValidationFraction = 0, MaxTrainPerClass = 20 }, seed: 1);
        var unused = UnusedImages.Draw(task, perClass: 100, seed: 2);
        // 60 training images, 40 train: the other 20 are unused, whatever the test set's indices 0..19 are.
        Assert.Equal(Enumerable.Range(0, 60).Except(task.TrainIndices).Order(), unused);
    }

    [Fact]
    public void NoImageIsLeftWhenTheSplitsUseThemAll()
    {
        using var d = Dataset(2, 20);
        var task = DatasetResolver.Split("t", d, d, new ClassificationOptions { TestFraction = 0.25, ValidationFraction = 0 }, seed: 3);
        Assert.Empty(UnusedImages.Draw(task, perClass: 5, seed: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => UnusedImages.Draw(task, perClass: 0, seed: 0));
    }
}
