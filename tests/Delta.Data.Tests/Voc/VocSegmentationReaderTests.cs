using Delta.Data.Voc;
using OpenCvSharp;

namespace Delta.Data.Tests.Voc;

public sealed class VocSegmentationReaderTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-vocseg-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Generate(int count = 8) =>
        SyntheticVocGenerator.Generate(dir, new SyntheticVocOptions(Count: count, Width: 40, Height: 32, Seed: 4, WriteSegmentationObject: false));

    /// <summary>An SBD-style layout: greyscale masks in SegmentationClassAug (label value = grey value) and train_aug.txt.</summary>
    private static void AddTrainAug(string voc, IEnumerable<string> lines, IEnumerable<string> maskIds)
    {
        var aug = Directory.CreateDirectory(Path.Combine(voc, VocSegmentationReader.AugMaskFolder)).FullName;
        foreach (var id in maskIds)
        {
            using var mask = new Mat(32, 40, MatType.CV_8UC1, new Scalar(0));
            Cv2.Rectangle(mask, new Rect(4, 4, 10, 10), new Scalar(12), -1);
            mask.Set(0, 0, (byte)255);
            Cv2.ImWrite(Path.Combine(aug, id + ".png"), mask);
        }
        File.WriteAllLines(VocSegmentationReader.SplitListPath(voc, VocSegmentationReader.TrainAug), lines);
    }

    [Fact]
    public void Year_Folder_Is_Found_From_The_Year_The_Devkit_Or_Its_Parent()
    {
        var voc = Generate();
        Assert.Equal(voc, VocSegmentationReader.ResolveYearFolder(voc));
        Assert.Equal(voc, VocSegmentationReader.ResolveYearFolder(Path.GetDirectoryName(voc)!));
        Assert.Equal(voc, VocSegmentationReader.ResolveYearFolder(dir));
        var e = Assert.Throws<VocFormatException>(() => VocSegmentationReader.ResolveYearFolder(Path.Combine(voc, "JPEGImages")));
        Assert.Contains("not a VOC segmentation folder", e.Message);
        e = Assert.Throws<VocFormatException>(() => VocSegmentationReader.ReadSplit(voc, "test"));
        Assert.Contains("test.txt", e.Message);
        Assert.Contains("available: train, trainval, val", e.Message);
    }

    [Fact]
    public void Sbd_Train_Aug_List_Reads_Its_Masks_From_SegmentationClassAug_In_Both_List_Formats()
    {
        var voc = Generate();
        var ids = File.ReadAllLines(Path.Combine(voc, "ImageSets", "Main", "trainval.txt"));
        Assert.False(VocSegmentationReader.HasTrainAug(voc));
        // Line 2 uses the two-path format; a blank line is allowed.
        AddTrainAug(voc, [ids[0], $"/JPEGImages/{ids[1]}.jpg /{VocSegmentationReader.AugMaskFolder}/{ids[1]}.png", "", ids[2]], ids[..3]);
        Assert.True(VocSegmentationReader.HasTrainAug(voc));

        var samples = VocSegmentationReader.ReadSplit(voc, VocSegmentationReader.TrainAug);
        Assert.Equal(ids[..3], samples.Select(s => s.ImageId));
        Assert.All(samples, s => Assert.Equal(VocSegmentationReader.AugMaskFolder, Path.GetFileName(Path.GetDirectoryName(s.MaskPath))));
        var (labels, w, h) = VocSegmentationReader.ReadMask(samples[1]);
        Assert.Equal((40, 32), (w, h));
        Assert.Equal(255, labels[0]);
        Assert.Equal(12, labels[5 * 40 + 5]);
        Assert.Equal(100, labels.Count(v => v == 12));
        // The ordinary splits still read SegmentationClass.
        Assert.All(VocSegmentationReader.ReadSplit(voc, "train"), s => Assert.Equal("SegmentationClass", Path.GetFileName(Path.GetDirectoryName(s.MaskPath))));
    }

    [Theory]
    [InlineData("mask", "does not exist")]
    [InlineData("image", "does not exist")]
    [InlineData("fields", "line 2 has 3 fields")]
    [InlineData("outside", "points outside the VOC folder")]
    [InlineData("folder", "SegmentationClassAug/ is missing")]
    [InlineData("escaping-id", "line 2: image id '../JPEGImages/")]
    public void Broken_Train_Aug_Entries_Are_Errors_Naming_The_File_And_The_Line(string breakage, string expected)
    {
        var voc = Generate();
        var ids = File.ReadAllLines(Path.Combine(voc, "ImageSets", "Main", "trainval.txt"));
        var lines = new List<string> { ids[0], ids[1] };
        var masks = ids[..2].ToList();
        switch (breakage)
        {
            case "mask": masks.RemoveAt(1); break;
            case "image": lines[1] = "2099_000001"; masks.Add("2099_000001"); break;
            case "fields": lines[1] = $"{ids[1]} {ids[1]} {ids[1]}"; break;
            case "outside": lines[1] = $"/../../../{ids[1]}.jpg /{VocSegmentationReader.AugMaskFolder}/{ids[1]}.png"; break;
            case "escaping-id": lines[1] = $"../JPEGImages/{ids[1]}"; break;                 // one-column id with a folder part
        }
        AddTrainAug(voc, lines, masks);
        if (breakage == "folder") Directory.Delete(Path.Combine(voc, VocSegmentationReader.AugMaskFolder), recursive: true);

        var e = Assert.Throws<VocFormatException>(() => VocSegmentationReader.ReadSplit(voc, VocSegmentationReader.TrainAug));
        Assert.Contains(expected, e.Message);
        switch (breakage)
        {
            case "mask":
                Assert.StartsWith(Path.Combine(voc, VocSegmentationReader.AugMaskFolder, ids[1] + ".png") + ":", e.Message);
                Assert.Contains("line 2 of " + VocSegmentationReader.SplitListPath(voc, VocSegmentationReader.TrainAug), e.Message);
                break;
            case "image":
                Assert.StartsWith(Path.Combine(voc, "JPEGImages", "2099_000001.jpg") + ":", e.Message);
                Assert.Contains("line 2 of", e.Message);
                break;
            case "fields" or "outside" or "escaping-id":
                Assert.StartsWith(VocSegmentationReader.SplitListPath(voc, VocSegmentationReader.TrainAug) + ":", e.Message);
                break;
        }
    }

    [Fact]
    public void Segmentation_Mask_With_Bad_Label_Or_Wrong_Size_Names_The_File()
    {
        var voc = Generate();
        var s = VocSegmentationReader.ReadSplit(voc, "train")[0];
        var (labels, w, h) = PalettePng.Read(s.MaskPath);
        labels[5] = 37;
        labels[6] = 21;
        PalettePng.Write(s.MaskPath, labels, w, h, VocClasses.ColorMap);
        var e = Assert.Throws<VocFormatException>(() => VocSegmentationReader.ReadMask(s));
        Assert.StartsWith(s.MaskPath + ":", e.Message);
        Assert.Contains("label 37 at pixel (5,0) is outside 0..20", e.Message);
        Assert.Contains("values out of range: 21, 37", e.Message);

        // With fewer classes the range shrinks: a VOC label 8 is outside a 4-class problem.
        labels[5] = 0; labels[6] = 8;
        PalettePng.Write(s.MaskPath, labels, w, h, VocClasses.ColorMap);
        Assert.Equal(8, VocSegmentationReader.ReadMask(s).Labels[6]);
        e = Assert.Throws<VocFormatException>(() => VocSegmentationReader.ReadMask(s, numClasses: 4));
        Assert.Contains("label 8 at pixel (6,0) is outside 0..3", e.Message);

        PalettePng.Write(s.MaskPath, new byte[10 * 10], 10, 10, VocClasses.ColorMap);
        e = Assert.Throws<VocFormatException>(() => VocSegmentationReader.ReadMask(s));
        Assert.Contains("mask is 10x10 but image", e.Message);
        Assert.Contains("is 40x32", e.Message);
    }
}
