using System.Globalization;
using Delta.Abstractions.Patches;

namespace Delta.Plugins.Classification.Data;

/// <summary>
/// What decides which images of a dataset fall into train, validation and test (<see cref="DatasetResolver.Split"/>):
/// the seed and the fraction/cap options. A patch records it, so that <c>evaluate</c> on the training dataset scores the
/// same held-out test images the training run did — with another seed or another fraction, a dataset without a test
/// split of its own would be split anew and the "test" images would include training images.
/// </summary>
public sealed record DatasetSplit(int Seed, double TestFraction, double ValidationFraction, double TrainFraction, int MaxTrainPerClass, int MaxTestPerClass)
{
    private const string Prefix = "split.";
    private static readonly string[] Keys = ["seed", "testFraction", "validationFraction", "trainFraction", "maxTrainPerClass", "maxTestPerClass"];

    public static DatasetSplit From(ClassificationOptions o, int seed) =>
        new(seed, o.TestFraction, o.ValidationFraction, o.TrainFraction, o.MaxTrainPerClass, o.MaxTestPerClass);

    /// <summary><paramref name="o"/> with this split's fractions and caps (its other options kept).</summary>
    public ClassificationOptions ApplyTo(ClassificationOptions o) => o with
    {
        TestFraction = TestFraction, ValidationFraction = ValidationFraction, TrainFraction = TrainFraction,
        MaxTrainPerClass = MaxTrainPerClass, MaxTestPerClass = MaxTestPerClass,
    };

    /// <summary>Manifest properties "split.seed", "split.testFraction", … (invariant culture, round-trip doubles).</summary>
    public IEnumerable<KeyValuePair<string, string>> ToProperties()
    {
        string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        string[] values = [I(Seed), D(TestFraction), D(ValidationFraction), D(TrainFraction), I(MaxTrainPerClass), I(MaxTestPerClass)];
        return Keys.Zip(values, (k, v) => new KeyValuePair<string, string>(Prefix + k, v));
    }

    /// <summary>The split a patch recorded; null for a patch saved before splits were recorded. A patch with some of
    /// the properties, or unreadable values, is refused: guessing the rest would score other images silently.</summary>
    public static DatasetSplit? FromManifest(PatchManifest m, string path)
    {
        var p = new ManifestProperties(m, path, "classification");
        if (!p.HasAll("dataset split", [.. Keys.Select(k => Prefix + k)])) return null;
        int Int(string k) => p.Int(Prefix + k);
        double Double(string k) => p.Double(Prefix + k);
        return new DatasetSplit(Int("seed"), Double("testFraction"), Double("validationFraction"), Double("trainFraction"), Int("maxTrainPerClass"), Int("maxTestPerClass"));
    }
}
