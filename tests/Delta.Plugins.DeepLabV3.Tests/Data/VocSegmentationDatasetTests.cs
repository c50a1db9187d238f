using Delta.Data.Images;
using Delta.Data.Voc;
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
        var year = TestData.Voc(dir, count: 10, size: 40, seed: 5);
        var train = new VocSegmentationDataset(dir, "train");          // resolves VOCdevkit/VOC2007
        Assert.Equal(year, train.Root);
        Assert.Equal(VocSegmentationReader.ReadSplit(year, "train").Select(s => s.ImageId), train.Ids);
        var generated = SyntheticVocGenerator.Classes.Select(c => (long)VocClasses.LabelOf(c.Name)).ToHashSet();
        var seen = new HashSet<long>();
        for (int i = 0; i < train.Count; i++)
        {
            using var scope = NewDisposeScope();
            using var sample = train.Get(i);
            Assert.Equal(new long[] { 3, 40, 40 }, sample.Image.shape);
            Assert.Equal(new long[] { 40, 40 }, sample.Label.shape);
            Assert.Equal(ScalarType.Int64, sample.Label.dtype);
            seen.UnionWith(sample.Label.unique().Item1.data<long>().ToArray());
        }
        Assert.Contains(0L, seen);
        Assert.Contains(255L, seen);
        Assert.Contains(seen, generated.Contains);
        Assert.All(seen, v => Assert.True(v is 0 or 255 || generated.Contains(v), $"unexpected label {v}"));
    }

    [Fact]
    public void BadFilesAreNamedInTheError()
    {
        var year = TestData.Voc(dir, count: 12, size: 32, seed: 1);
        var train = new VocSegmentationDataset(year, "train");

        var wrongSize = train.Samples[0].MaskPath;
        PalettePng.Write(wrongSize, new byte[20 * 24], 20, 24, VocClasses.ColorMap);
        var e = Assert.Throws<VocFormatException>(() => train.Get(0));
        Assert.StartsWith(wrongSize + ":", e.Message);
        Assert.Contains("20x24", e.Message);

        var outOfRange = train.Samples[1].MaskPath;
        var values = new byte[32 * 32]; values[5] = 21; values[6] = 200;
        PalettePng.Write(outOfRange, values, 32, 32, VocClasses.ColorMap);
        e = Assert.Throws<VocFormatException>(() => train.Get(1));
        Assert.StartsWith(outOfRange + ":", e.Message);
        Assert.Contains("values out of range: 21, 200", e.Message);

        var unreadable = train.Samples[2].ImagePath;
        File.WriteAllBytes(unreadable, [1, 2, 3]);
        var decode = Assert.Throws<ImageDecodeException>(() => train.Get(2));
        Assert.StartsWith(unreadable + ":", decode.Message);

        e = Assert.Throws<VocFormatException>(() => new VocSegmentationDataset(year, "test"));
        Assert.Contains("test.txt", e.Message);
        Assert.Contains("available: train, trainval, val", e.Message);
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
