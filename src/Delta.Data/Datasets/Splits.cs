namespace Delta.Data.Datasets;

/// <summary>Seeded, stratified index selections: each class keeps its share, the same seed gives the same split.</summary>
public static class Splits
{
    /// <summary>Per class, a seeded shuffle of its indices; then <paramref name="fraction"/> of each class (at least one item where the class has any).</summary>
    public static List<int> StratifiedFraction(IImageDataset data, double fraction, int seed)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), $"fraction must be in (0, 1], got {fraction}.");
        return ByClass(data, seed).SelectMany(c => c.Take(Math.Max(1, (int)Math.Round(c.Count * fraction)))).OrderBy(i => i).ToList();
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
        foreach (var i in among ?? Enumerable.Range(0, data.Count)) groups[data.Label(i)].Add(i);
        foreach (var g in groups)
            for (int i = g.Count - 1; i > 0; i--) { var j = rng.Next(i + 1); (g[i], g[j]) = (g[j], g[i]); }
        return groups;
    }
}
