using Delta.Abstractions;
using Delta.Data.Datasets;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Data;

/// <summary>
/// The real digit domains available offline, normalised to one input: greyscale → 3 equal channels,
/// bilinear resize to S x S, values in [0, 1] (the backbone's own preprocessing is applied by the encoder).
/// "optdigits" is the UCI optdigits set (8x8, other writers); it stands in for USPS and is not USPS.
/// </summary>
public static class DigitDomains
{
    public static readonly IReadOnlyList<string> Names = ["mnist", "optdigits"];

    public static LabelledImages Load(string domain, int size) => domain.ToLowerInvariant() switch
    {
        "mnist" => Normalise(DigitReaders.MnistJson(AssetPaths.Require(AssetPaths.MnistJson)), "mnist", size),
        "optdigits" => Normalise(DigitReaders.OptDigits(AssetPaths.Require(AssetPaths.OptDigitsCsv)), "optdigits", size),
        _ => throw new ArgumentException($"Unknown digit domain '{domain}'. Valid: {string.Join(", ", Names)}."),
    };

    /// <summary>[N, 1, h, w] greyscale (byte or float in [0, 1]) → [N, 3, S, S] float in [0, 1].</summary>
    public static LabelledImages Normalise(TensorImageDataset data, string name, int size)
    {
        using (data)
        using (var scope = NewDisposeScope())
        {
            var x = data.Images.dtype == ScalarType.Byte ? data.Images.to_type(ScalarType.Float32).div(255f) : data.Images.to_type(ScalarType.Float32);
            if (x.shape[1] != 1) throw new InvalidDataException($"{name}: expected greyscale digits [N, 1, H, W]; got [{string.Join(", ", x.shape)}].");
            var rgb = ToInput(x, size);
            var labels = tensor(data.Labels.Select(l => (long)l).ToArray(), dtype: ScalarType.Int64);
            return new LabelledImages(name, rgb.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
        }
    }

    /// <summary>The common input every domain is brought to: greyscale [N, 1, h, w] or colour [N, 3, h, w] float in [0, 1]
    /// → channel mean (grey) → bilinear S x S → 3 equal channels, [N, 3, S, S] in [0, 1]. Joins the caller's scope.</summary>
    public static Tensor ToInput(Tensor images01, int size)
    {
        if (images01.dim() != 4 || images01.shape[1] is not (1 or 3))
            throw new ArgumentException($"Expected images [N, 1 or 3, H, W]; got [{string.Join(", ", images01.shape)}].");
        using var grey = images01.shape[1] == 1 ? images01.alias() : images01.mean([1], keepdim: true);
        using var resized = nn.functional.interpolate(grey, size: new long[] { size, size }, mode: InterpolationMode.Bilinear, align_corners: false);
        using var clamped = resized.clamp(0, 1);
        return clamped.expand(-1, 3, -1, -1).contiguous();                      // [N, 3, S, S]
    }

    /// <summary>Seeded stratified split into (train, test) with at most <paramref name="trainCount"/> and
    /// <paramref name="testCount"/> items, disjoint.</summary>
    public static (LabelledImages Train, LabelledImages Test) Split(LabelledImages all, int trainCount, int testCount, int seed)
    {
        var labels = all.Labels.data<long>().ToArray();
        var rng = new Random(seed);
        var byClass = labels.Select((l, i) => (l, i)).GroupBy(p => p.l).OrderBy(g => g.Key)
            .Select(g => g.Select(p => p.i).OrderBy(_ => rng.Next()).ToList()).ToList();
        // Interleave classes so any prefix is (nearly) stratified.
        var order = new List<int>();
        for (int k = 0; order.Count < labels.Length; k++)
            foreach (var c in byClass) if (k < c.Count) order.Add(c[k]);
        var test = order.Take(Math.Min(testCount, order.Count / 2)).ToList();
        var train = order.Skip(test.Count).Take(trainCount).ToList();
        return (Take(all, train, all.Name + "-train"), Take(all, test, all.Name + "-test"));
    }

    private static LabelledImages Take(LabelledImages all, List<int> idx, string name)
    {
        using var i = tensor(idx.Select(v => (long)v).ToArray(), dtype: ScalarType.Int64);
        return new LabelledImages(name, all.Images.index_select(0, i), all.Labels.index_select(0, i));
    }
}
