using Delta.Plugins.DomainAdapt.Experiments;
using Delta.Plugins.DomainAdapt.Reports;

namespace Delta.Plugins.DomainAdapt.Tests.Reports;

public class AdaptTableTests
{
    private static readonly AdaptPair MtoO = new("mnist", "optdigits"), OtoM = new("optdigits", "mnist");

    /// <summary>Two seeds per cell. Vanilla on mnist→optdigits: 0.50, 0.70 → mean 60.0, sample std √((0.1² + 0.1²)/1) = 14.1.</summary>
    private static List<RowResult> Results() =>
    [
        new(AdaptExperiment.Vanilla, false, MtoO, 0, 0.50, 0.90, 0.90, 0),
        new(AdaptExperiment.Vanilla, false, MtoO, 1, 0.70, 0.92, 0.92, 0),
        new(AdaptExperiment.Vanilla, false, OtoM, 0, 0.30, 0.95, 0.95, 0),
        new(AdaptExperiment.Vanilla, false, OtoM, 1, 0.30, 0.97, 0.97, 0),
        new(AdaptExperiment.Adda, true, MtoO, 0, 0.61, 0.80, 0.80, 615311),
        new(AdaptExperiment.Adda, true, MtoO, 1, 0.65, 0.84, 0.84, 615311),
        new(AdaptExperiment.Adda, false, MtoO, 0, 0.40, 0.90, 0.89, 15897152),   // a full copy: nothing guarantees the source
        new(AdaptExperiment.TargetOnly, false, MtoO, 0, 0.97, double.NaN, double.NaN, 0),
        new(AdaptExperiment.TargetOnly, false, MtoO, 1, 0.99, double.NaN, double.NaN, 0),
    ];

    [Fact]
    public void Markdown_HasTable6RowOrder_MeanStdCells_AndSourceColumns()
    {
        var md = AdaptTable.Markdown(Results(), [MtoO, OtoM], 4, "footer line");
        var lines = md.Split('\n', StringSplitOptions.TrimEntries).Where(l => l.StartsWith('|')).ToList();
        Assert.Equal("| Method | mnist→optdigits target top-1 (%) | optdigits→mnist target top-1 (%) | source top-1 before → after (%) | source unchanged in every seed | target-side trainable params |", lines[0]);
        Assert.Equal("|---|---|---|---|---|---|", lines[1]);
        // Rows present, in the paper's order: Vanilla, ADDA, ADDA + Δ(4), target only.
        Assert.Equal(6, lines.Count);
        Assert.Equal("| Vanilla | 60.0 ± 14.1 | 30.0 ± 0.0 | 93.5 ± 3.1 → 93.5 ± 3.1 | yes (exact) | – |", lines[2]);
        Assert.Equal("| ADDA | 40.0 ± 0.0 | – | 90.0 ± 0.0 → 89.0 ± 0.0 | NO | 15,897,152 |", lines[3]);
        Assert.Equal("| ADDA + Δ(4) | 63.0 ± 2.8 | – | 82.0 ± 2.8 → 82.0 ± 2.8 | yes (exact) | 615,311 |", lines[4]);
        Assert.Equal("| Target only (upper bound) | 98.0 ± 1.4 | – | – | – | – |", lines[5]);
        Assert.EndsWith("footer line", md.TrimEnd());
    }

    [Fact]
    public void Csv_OneLinePerRunWithInvariantNumbers()
    {
        var csv = AdaptTable.Csv(Results(), 4).TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal("method,delta_stages,source,target,seed,target_top1,source_top1_before,source_top1_after,target_trainable_params", csv[0]);
        Assert.Equal(10, csv.Count);
        Assert.Equal("Vanilla,0,mnist,optdigits,0,0.5,0.9,0.9,0", csv[1]);
        Assert.Equal("ADDA,4,mnist,optdigits,1,0.65,0.84,0.84,615311", csv[6]);
        Assert.Equal("Target only (upper bound),0,mnist,optdigits,0,0.97,,,0", csv[8]);
    }

    [Fact]
    public void MeanStd_IsSampleStd()
    {
        var (mean, std, n) = AdaptTable.MeanStd([0.2, 0.4, 0.9]);
        Assert.Equal(0.5, mean, 12);
        Assert.Equal(Math.Sqrt((0.09 + 0.01 + 0.16) / 2), std, 12);
        Assert.Equal(3, n);
        Assert.Equal(0, AdaptTable.MeanStd([0.3]).Std);
        Assert.True(double.IsNaN(AdaptTable.MeanStd([]).Mean));
    }
}
