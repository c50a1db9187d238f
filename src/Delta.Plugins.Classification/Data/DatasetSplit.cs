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
        var present = Keys.Where(k => m.Properties.ContainsKey(Prefix + k)).ToList();
        if (present.Count == 0) return null;
        if (present.Count != Keys.Length)
            throw new PatchException(PatchErrorKind.Incompatible, path, $"manifest records only part of its dataset split (missing {string.Join(", ", Keys.Except(present).Select(k => Prefix + k))}).");
        string Raw(string k) => m.Properties[Prefix + k];
        int Int(string k) => int.TryParse(Raw(k), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new PatchException(PatchErrorKind.Incompatible, path, $"manifest property {Prefix}{k} = '{Raw(k)}' is not an integer.");
        double Double(string k) => double.TryParse(Raw(k), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new PatchException(PatchErrorKind.Incompatible, path, $"manifest property {Prefix}{k} = '{Raw(k)}' is not a number.");
        return new DatasetSplit(Int("seed"), Double("testFraction"), Double("validationFraction"), Double("trainFraction"), Int("maxTrainPerClass"), Int("maxTestPerClass"));
    }
}
