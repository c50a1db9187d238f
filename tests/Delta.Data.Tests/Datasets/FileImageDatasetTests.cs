using Delta.Data.Datasets;
using Delta.Data.Images;

namespace Delta.Data.Tests.Datasets;

public class FileImageDatasetTests
{
    private static string MakeFolder(TempDir dir)
    {
        var root = Path.Combine(dir.Path, "pets");
        Pngs.Gradient(Path.Combine(root, "dog", "b.png"), 12, 10, 1);
        Pngs.Gradient(Path.Combine(root, "dog", "a.png"), 8, 8, 2);
        Pngs.Gradient(Path.Combine(root, "cat", "z.png"), 20, 6, 3);
        File.WriteAllText(Path.Combine(root, "cat", "notes.txt"), "not an image, ignored by extension");
        return root;
    }

    [Fact]
    public void ImageFolder_SortedClassesAndFiles_LazyResizedItems()
    {
        using var dir = new TempDir();
        var data = FileImageDataset.ImageFolder(MakeFolder(dir), size: 16);
        Assert.Equal(new[] { "cat", "dog" }, data.ClassNames);
        Assert.Equal(3, data.Count);
        Assert.Equal(new[] { 0, 1, 1 }, Enumerable.Range(0, 3).Select(data.Label));
        Assert.EndsWith(Path.Combine("dog", "a.png"), data.PathOf(1));
        using var x = data.Load(2);
        Assert.Equal(new long[] { 3, 16, 16 }, x.shape);
        Assert.InRange(x.min().item<float>(), 0f, 1f);
        Assert.InRange(x.max().item<float>(), 0f, 1f);
    }

    [Fact]
    public void CorruptImage_FailsNamingTheFile_OrIsSkippedAndCountedWhenAsked()
    {
        using var dir = new TempDir();
        var root = MakeFolder(dir);
        var bad = Path.Combine(root, "cat", "broken.png");
        File.WriteAllText(bad, "definitely not a png");
        var strict = FileImageDataset.ImageFolder(root, 16);
        Assert.Equal(4, strict.Count);
        var index = Enumerable.Range(0, strict.Count).Single(i => strict.PathOf(i) == bad);
        var e = Assert.Throws<ImageDecodeException>(() => strict.Load(index));
        Assert.Equal(bad, e.FilePath);

        var lenient = FileImageDataset.ImageFolder(root, 16, skipUnreadable: true);
        Assert.Equal(3, lenient.Count);
        Assert.Equal(new[] { bad }, lenient.Skipped);
    }

    [Fact]
    public void CsvList_WithHeader_RelativePaths_ClassNameLabels()
    {
        using var dir = new TempDir();
        MakeFolder(dir);
        var list = dir.File("list.csv");
        File.WriteAllLines(list, ["path,label", "pets/dog/a.png,dog", "pets/cat/z.png,cat", "", "pets/dog/b.png,dog"]);
        var data = FileImageDataset.CsvList(list, 8);
        Assert.Equal(new[] { "cat", "dog" }, data.ClassNames);
        Assert.Equal(new[] { 1, 0, 1 }, Enumerable.Range(0, 3).Select(data.Label));
        Assert.Equal(Path.Combine(dir.Path, "pets", "cat", "z.png"), data.PathOf(1));
    }

    [Fact]
    public void TsvList_WithoutHeader_IntegerLabels()
    {
        using var dir = new TempDir();
        MakeFolder(dir);
        var list = dir.File("list.tsv");
        File.WriteAllLines(list, ["pets/dog/a.png\t2", "pets/cat/z.png\t0"]);
        var data = FileImageDataset.CsvList(list, 8);
        Assert.Equal(new[] { "0", "1", "2" }, data.ClassNames);
        Assert.Equal(new[] { 2, 0 }, Enumerable.Range(0, 2).Select(data.Label));
    }

    [Fact]
    public void CsvList_MissingImageOrBadLine_NamesListAndLine()
    {
        using var dir = new TempDir();
        MakeFolder(dir);
        var list = dir.File("l.csv");
        File.WriteAllLines(list, ["pets/dog/a.png,dog", "pets/dog/nope.png,dog"]);
        var e = Assert.Throws<FileNotFoundException>(() => FileImageDataset.CsvList(list, 8));
        Assert.Contains($"{list}:2", e.Message);
        File.WriteAllLines(list, ["pets/dog/a.png,dog", "just-a-path"]);
        Assert.Contains($"{list}:2", Assert.Throws<InvalidDataException>(() => FileImageDataset.CsvList(list, 8)).Message);
    }
}
