namespace Delta.Plugins.Classification.Metrics;

/// <summary>The paper's metrics: top-1 accuracy per task, harmonic mean of base and patched accuracy (single,
/// joint patching), plain mean over tasks (sequential patching), and the confusion matrix.</summary>
public static class ClassificationMetrics
{
    public static double Top1(IReadOnlyList<int> predicted, IReadOnlyList<int> truth)
    {
        if (predicted.Count != truth.Count) throw new ArgumentException($"{predicted.Count} predictions for {truth.Count} labels.");
        if (truth.Count == 0) throw new ArgumentException("No items to score.");
        int hit = 0;
        for (int i = 0; i < truth.Count; i++) if (predicted[i] == truth[i]) hit++;
        return (double)hit / truth.Count;
    }

    /// <summary>2ab/(a+b); 0 when both are 0.</summary>
    public static double HarmonicMean(double a, double b) => a + b == 0 ? 0 : 2 * a * b / (a + b);

    public static double Mean(IEnumerable<double> values) => values.DefaultIfEmpty(double.NaN).Average();

    /// <summary>counts[true, predicted].</summary>
    public static long[,] ConfusionMatrix(IReadOnlyList<int> predicted, IReadOnlyList<int> truth, int classes)
    {
        var m = new long[classes, classes];
        for (int i = 0; i < truth.Count; i++) m[truth[i], predicted[i]]++;
        return m;
    }
}
