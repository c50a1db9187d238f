using Delta.Plugins.DeepLabV3.Data;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Tests.Data;

public sealed class VocSegmentationDatasetTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("deeplab-voc-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Fact]
    public void SyntheticSetReadsBackWithValidLabelsAndVoidOutlines()
    {
        SyntheticVocSegmentation.Write(dir, 3, 2, size: 40, numObjectClasses: 3, seed: 5);
        var train = new VocSegmentationDataset(dir, "train");          // resolves VOCdevkit/VOC2007
        Assert.Equal(3, train.Count);
        Assert.Equal(2, new VocSegmentationDataset(dir, "val").Count);
        using var scope = NewDisposeScope();
        using var sample = train.Get(0);
        Assert.Equal(new long[] { 3, 40, 40 }, sample.Image.shape);
        Assert.Equal(new long[] { 40, 40 }, sample.Label.shape);
        var values = sample.Label.unique().Item1.data<long>().ToArray();
        Assert.Contains(0L, values);
        Assert.Contains(255L, values);
        Assert.All(values, v => Assert.True(v is >= 0 and <= 3 or 255));
    }

    [Fact]
    public void BadFilesAreNamedInTheError()
    {
        var year = SyntheticVocSegmentation.Write(dir, 3, 1, size: 24, seed: 1);
        var train = new VocSegmentationDataset(year, "train");

        var wrongSize = train.LabelPath(train.Ids[0]);
        PalettePng.Write(wrongSize, 20, 24, new byte[20 * 24], VocPalette.Rgb);
        var e = Assert.Throws<SegmentationDataException>(() => train.Get(0));
        Assert.Contains(wrongSize, e.Message);
        Assert.Contains("20x24", e.Message);

        var outOfRange = train.LabelPath(train.Ids[1]);
        var values = new byte[24 * 24]; values[5] = 21; values[6] = 200;
        PalettePng.Write(outOfRange, 24, 24, values, VocPalette.Rgb);
        e = Assert.Throws<SegmentationDataException>(() => train.Get(1));
        Assert.Contains(outOfRange, e.Message);
        Assert.Contains("21, 200", e.Message);

        var unreadable = train.ImagePath(train.Ids[2]);
        File.WriteAllBytes(unreadable, [1, 2, 3]);
        e = Assert.Throws<SegmentationDataException>(() => train.Get(2));
        Assert.Contains(unreadable, e.Message);

        e = Assert.Throws<SegmentationDataException>(() => new VocSegmentationDataset(year, "test"));
        Assert.Contains("test.txt", e.Message);
        Assert.Contains("train", e.Message);
    }

    [Fact]
    public void AugmentationPadsWithVoidCropsToSizeAndNeverInventsLabels()
    {
        using var scope = NewDisposeScope();
        var image = rand(3, 20, 30);
        var label = randint(0, 3, [20, 30]);
        var augment = new SegmentationAugmentation(48, 0.5, 1.0, flip: true, seed: 2, imagePad: -1f);
        for (int i = 0; i < 5; i++)
        {
            var (img, lab) = augment.Apply(image, label);
            Assert.Equal(new long[] { 3, 48, 48 }, img.shape);
            Assert.Equal(new long[] { 48, 48 }, lab.shape);
            var values = lab.unique().Item1.data<long>().ToArray();
            Assert.Contains(255L, values);   // a ≤ 30 px image must be padded to 48
            Assert.All(values, v => Assert.True(v is 0 or 1 or 2 or 255));
            // Image padding and label padding coincide: every void pixel is a padded one.
            Assert.True(img[0].eq(-1f).Equals(lab.eq(255L)));
        }
    }
}
