using Delta.Data.Voc;
using OpenCvSharp;

namespace Delta.Data.Tests.Voc;

public sealed class VocTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-voc-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string Generate(int count = 12, int seed = 3) =>
        SyntheticVocGenerator.Generate(Path.Combine(dir, "s" + seed), new SyntheticVocOptions(Count: count, Width: 96, Height: 80, Seed: seed));

    [Fact]
    public void Generator_Writes_The_Voc_Layout_And_Readers_Read_It_Back()
    {
        var voc = Generate();
        foreach (var s in SyntheticVocGenerator.MainSplits) Assert.True(File.Exists(Path.Combine(voc, "ImageSets/Main", s + ".txt")));
        Assert.True(File.Exists(Path.Combine(voc, "ImageSets/Main/cat_trainval.txt")));
        var trainval = VocDetectionReader.Read(voc, "trainval");
        var test = VocDetectionReader.Read(voc, "test");
        Assert.Equal(12, trainval.Images.Count + test.Images.Count);
        Assert.Empty(trainval.Images.Select(i => i.ImageId).Intersect(test.Images.Select(i => i.ImageId)));
        var all = trainval.Images.Concat(test.Images).ToList();
        Assert.All(all, a => Assert.NotEmpty(a.Objects));
        Assert.All(all.SelectMany(a => a.Objects), o => Assert.Contains(o.Name, SyntheticVocGenerator.Classes.Select(c => c.Name)));
        // The box matches the class mask: every pixel of the class inside the image lies in a box of that class.
        var seg = VocSegmentationReader.ReadSplit(voc, "trainval");
        Assert.Equal(trainval.Images.Count, seg.Count);
        foreach (var s in seg)
        {
            var ann = all.Single(a => a.ImageId == s.ImageId);
            var (labels, w, h) = VocSegmentationReader.ReadMask(s);
            Assert.Equal((ann.Width, ann.Height), (w, h));
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int l = labels[y * w + x];
                    if (l is 0 or 255) continue;
                    Assert.Contains(ann.Objects, o => o.Label == l && x + 1 >= o.XMin && x + 1 <= o.XMax && y + 1 >= o.YMin && y + 1 <= o.YMax);
                }
        }
        // 07+12 style concatenation of two folders.
        var voc2 = Generate(count: 6, seed: 9);
        var both = VocDetectionReader.Read([(voc, "trainval"), (voc2, "trainval")]);
        Assert.Equal(trainval.Images.Count + VocDetectionReader.Read(voc2, "trainval").Images.Count, both.Images.Count);
    }

    [Fact]
    public void Generator_Is_Deterministic_And_Marks_Difficult_And_Truncated()
    {
        var a = SyntheticVocGenerator.Generate(Path.Combine(dir, "a"), new SyntheticVocOptions(Count: 60, Width: 64, Height: 64, Seed: 5));
        var b = SyntheticVocGenerator.Generate(Path.Combine(dir, "b"), new SyntheticVocOptions(Count: 60, Width: 64, Height: 64, Seed: 5));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "Annotations/000007.xml")), File.ReadAllBytes(Path.Combine(b, "Annotations/000007.xml")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "JPEGImages/000007.jpg")), File.ReadAllBytes(Path.Combine(b, "JPEGImages/000007.jpg")));
        var objs = VocDetectionReader.Read(a, "trainval").Images.Concat(VocDetectionReader.Read(a, "test").Images).SelectMany(i => i.Objects).ToList();
        Assert.Contains(objs, o => o.Difficult);
        Assert.Contains(objs, o => o.Truncated);
        Assert.Throws<IOException>(() => SyntheticVocGenerator.Generate(Path.Combine(dir, "a"), new SyntheticVocOptions(Count: 4)));
    }

    private static void SetXml(string voc, string id, Func<string, string> edit)
    {
        var p = Path.Combine(voc, "Annotations", id + ".xml");
        File.WriteAllText(p, edit(File.ReadAllText(p)));
    }

    [Theory]
    [InlineData("malformed", "malformed XML")]
    [InlineData("unknown", "unknown class 'unicorn'")]
    [InlineData("outside", "outside")]
    [InlineData("zero", "zero or negative area")]
    [InlineData("noimage", "does not exist")]
    [InlineData("escaping", "is not a plain file name")]
    [InlineData("unreadable", "cannot be read")]
    public void Broken_Annotations_Name_The_File_Or_Are_Skipped_And_Counted(string breakage, string expected)
    {
        var voc = Generate();
        var id = VocDetectionReader.ReadImageSet(voc, "Main", "trainval")[0];
        switch (breakage)
        {
            case "malformed": SetXml(voc, id, s => s.Replace("</annotation>", "")); break;
            case "unknown": SetXml(voc, id, s => System.Text.RegularExpressions.Regex.Replace(s, "<name>[a-z]+</name>", "<name>unicorn</name>")); break;
            case "outside": SetXml(voc, id, s => System.Text.RegularExpressions.Regex.Replace(s, "<xmax>\\d+</xmax>", "<xmax>5000</xmax>")); break;
            case "zero": SetXml(voc, id, s => System.Text.RegularExpressions.Regex.Replace(s, "<xmax>\\d+</xmax>", "<xmax>0</xmax>")); break;
            case "noimage": File.Delete(Path.Combine(voc, "JPEGImages", id + ".jpg")); break;
            // A folder where the file should be: what an unreadable file looks like to a root user (chmod does not stop root).
            case "unreadable": { var xml = Path.Combine(voc, "Annotations", id + ".xml"); File.Delete(xml); Directory.CreateDirectory(xml); break; }
            case "escaping": SetXml(voc, id, s => System.Text.RegularExpressions.Regex.Replace(s, "<filename>([^<]+)</filename>", "<filename>../JPEGImages/$1</filename>")); break;   // exists, but outside
        }
        var e = Assert.Throws<VocFormatException>(() => VocDetectionReader.Read(voc, "trainval"));
        Assert.Contains(id + ".xml", e.Message);
        Assert.Contains(expected, e.Message);
        var lenient = VocDetectionReader.Read(voc, "trainval", VocInvalidPolicy.SkipAndCount);
        Assert.Single(lenient.Skipped);
        Assert.Equal(VocDetectionReader.ReadImageSet(voc, "Main", "trainval").Count - 1, lenient.Images.Count);
    }
}
