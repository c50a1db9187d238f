using Delta.Abstractions.Backbones;
using Delta.Backbones.Catalog;
using Delta.Backbones.Registry;
using Xunit.Abstractions;

namespace Delta.Backbones.Tests.Catalog;

public class ParameterCountTests(ITestOutputHelper output)
{
    /// <summary>Δ_s with input channels c, hidden h = c/2, k blocks, output channels o, skip BN on:
    /// conv 9ch + BN 2h + conv 9h² + BN 2h + FC h·P + P, P = k(k+1)/2; skip BNs 2·o·k.</summary>
    private static long DeltaStageCount(long c, long k, long o)
    {
        long h = Math.Max(16, c / 2), pairs = k * (k + 1) / 2;
        return 9 * c * h + 2 * h + 9 * h * h + 2 * h + h * pairs + pairs + 2 * o * k;
    }

    [Fact]
    public void CountsMatchTheHandComputedFormulaForResNet18And50()
    {
        using var registry = BackboneRegistry.CreateDefault();
        // ResNet-18: 11,689,512 with fc; fc = 512·1000 + 1000. Stage inputs 64, 64, 128, 256; outputs 64..512; k = 2.
        var r18 = registry.CountParameters("resnet18", new DeltaConfig { Stages = 4 });
        Assert.Equal(11_689_512L - 513_000L, r18.BaseParameters);
        Assert.Equal(DeltaStageCount(64, 2, 64) + DeltaStageCount(64, 2, 128) + DeltaStageCount(128, 2, 256) + DeltaStageCount(256, 2, 512), r18.DeltaParameters);
        // ResNet-50: 25,557,032 with fc (2048·1000 + 1000). Stage inputs 64, 256, 512, 1024; k = 3, 4, 6, 3.
        var r50 = registry.CountParameters("resnet50", new DeltaConfig { Stages = 1 });
        Assert.Equal(25_557_032L - 2_049_000L, r50.BaseParameters);
        Assert.Equal(DeltaStageCount(1024, 3, 2048), r50.DeltaParameters);
        Assert.Equal(0, registry.CountParameters("resnet50", DeltaConfig.None).DeltaParameters);
    }

    [Fact]
    public void DefaultWidthReproducesThePaperTable2WithinRounding()
    {
        var rows = ParameterCountTable.Compute(new[] { "resnet18", "resnet50" }, new[] { 1, 4 });
        foreach (var row in rows)
        {
            Assert.NotNull(row.PaperTrainableMillions);
            // The paper prints one decimal. Its count is dominated by Δ_s's two 3x3 convs at hidden width c/2
            // (9.317M for ResNet-50 Δ(4)); our per-target skip BNs and gate FCs add ≤ 0.05M, hence 0.07M.
            Assert.InRange(row.DeltaParameters / 1e6 - row.PaperTrainableMillions!.Value, -0.07, 0.07);
        }
    }

    /// <summary>Prints the table in docs/backbones.md (run with --logger "console;verbosity=detailed").</summary>
    [Fact]
    public void PrintsTheParameterTableForTheDocs()
    {
        var rows = ParameterCountTable.Compute(BackboneCatalog.Names, new[] { 1, 2, 4 });
        Assert.Equal(BackboneCatalog.Names.Count * 3, rows.Count);
        output.WriteLine("| architecture | Δ(n) | base (frozen) | Δ trainable | Δ + 1000-class head | paper (head incl.) |");
        output.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            Assert.True(r.DeltaParameters > 0 && r.BaseParameters > r.DeltaParameters || r.Architecture.StartsWith("tiny"));
            output.WriteLine($"| {r.Architecture} | {r.DeltaStages} | {r.BaseParameters:N0} | {r.DeltaParameters:N0} | {r.DeltaParameters + r.Head1000Parameters:N0} | {(r.PaperTrainableMillions is { } m ? $"{m:0.0}M" : "–")} |");
        }
    }
}
