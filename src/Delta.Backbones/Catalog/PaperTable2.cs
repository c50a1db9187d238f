namespace Delta.Backbones.Catalog;

/// <summary>
/// Trainable-parameter figures of the Δ-Patching paper's Table 2, as printed (millions, task head included),
/// for showing beside this implementation's counts. Only the figures the paper gives are listed.
/// </summary>
public static class PaperTable2
{
    public sealed record Entry(string Architecture, int DeltaStages, double TrainableMillions);

    public static IReadOnlyList<Entry> Entries { get; } = new Entry[]
    {
        new("resnet18", 1, 0.4),
        new("resnet18", 4, 0.6),
        new("resnet50", 1, 7.1),
        new("resnet50", 4, 9.3),
    };

    /// <summary>The paper's figure for (architecture, Δ(n)), or null when the paper gives none.</summary>
    public static double? TrainableMillions(string architecture, int deltaStages) =>
        Entries.FirstOrDefault(e => string.Equals(e.Architecture, architecture, StringComparison.OrdinalIgnoreCase) && e.DeltaStages == deltaStages)?.TrainableMillions;
}
