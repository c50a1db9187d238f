namespace Delta.Data.Datasets;

/// <summary>Seeded, stratified index selections: each class keeps its share, the same seed gives the same split.</summary>
public static class Splits
{
    /// <summary>The low-data protocol's training-set fractions (paper Table 5).</summary>
    public static readonly double[] LowDataFractions = [0.15, 0.3, 0.5, 1.0];

    /// <summary>Stratified train / validation / test indices: per class, <paramref name="valFraction"/> and
    /// <paramref name="testFraction"/> of its items (rounded) go to validation and test, the rest to training.</summary>
    public static (List<int> Train, List<int> Val, List<int> Test) TrainValTest(IImageDataset data, double valFraction, double testFraction, int seed)
    {
        if (valFraction < 0 || testFraction < 0 || valFraction + testFraction >= 1)
            throw new ArgumentOutOfRangeException(nameof(valFraction), $"val ({valFraction}) and test ({testFraction}) fractions must be ≥ 0 and sum below 1.");
        var train = new List<int>(); var val = new List<int>(); var test = new List<int>();
        foreach (var c in ByClass(data, seed))
        {
            int nTest = (int)Math.Round(c.Count * testFraction), nVal = (int)Math.Round(c.Count * valFraction);
            test.AddRange(c.Take(nTest)); val.AddRange(c.Skip(nTest).Take(nVal)); train.AddRange(c.Skip(nTest + nVal));
        }
        train.Sort(); val.Sort(); test.Sort();
        return (train, val, test);
    }

    /// <summary>Per class, a seeded shuffle of its indices; then <paramref name="fraction"/> of each class (at least one item where the class has any).</summary>
    public static List<int> StratifiedFraction(IImageDataset data, double fraction, int seed, IReadOnlyList<int>? among = null)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), $"fraction must be in (0, 1], got {fraction}.");
        return ByClass(data, seed, among).SelectMany(c => c.Take(Math.Max(1, (int)Math.Round(c.Count * fraction)))).OrderBy(i => i).ToList();
    }

    /// <summary>At most <paramref name="perClass"/> items of each class, seeded.</summary>
    public static List<int> PerClass(IImageDataset data, int perClass, int seed) =>
        ByClass(data, seed).SelectMany(c => c.Take(perClass)).OrderBy(i => i).ToList();

    /// <summary>Splits indices into (train, held-out) with <paramref name="heldOutFraction"/> of each class held out.</summary>
    public static (List<int> Train, List<int> HeldOut) Holdout(IImageDataset data, double heldOutFraction, int seed, IReadOnlyList<int>? among = null)
    {
        var train = new List<int>(); var held = new List<int>();
        foreach (var c in ByClass(data, seed, among))
        {
            var k = (int)Math.Round(c.Count * heldOutFraction);
            held.AddRange(c.Take(k)); train.AddRange(c.Skip(k));
        }
        train.Sort(); held.Sort();
        return (train, held);
    }

    private static List<List<int>> ByClass(IImageDataset data, int seed, IReadOnlyList<int>? among = null)
    {
        var rng = new Random(seed);
        var groups = Enumerable.Range(0, data.ClassNames.Count).Select(_ => new List<int>()).ToList();
        foreach (var i in among ?? Enumerable.Range(0, data.Count))
        {
            var label = data.Label(i);
            if ((uint)label >= (uint)groups.Count) throw new InvalidDataException($"{data.Name}: item {i} has label {label}, outside 0..{groups.Count - 1}.");
            groups[label].Add(i);
        }
        foreach (var g in groups)
            for (int i = g.Count - 1; i > 0; i--) { var j = rng.Next(i + 1); (g[i], g[j]) = (g[j], g[i]); }
        return groups;
    }
}
