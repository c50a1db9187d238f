using Delta.Plugins.DomainAdapt.Commands;
using Delta.Plugins.DomainAdapt.Experiments;

namespace Delta.Plugins.DomainAdapt.Tests.Commands;

public sealed class AdaptTableCommandTests : IDisposable
{
    private readonly TestEnv env = new();
    public void Dispose() => env.Dispose();

    [Theory]
    [InlineData("--size=8")]
    [InlineData("--pairs=mnist->usps")]
    [InlineData("--backbone=nope")]
    [InlineData("--colour=red")]
    public async Task BadArguments_ExitCode2_NothingWritten(string arg)
    {
        var outDir = Path.Combine(env.Dir, "bad");
        Assert.Equal(2, await AdaptTableCommand.Command.RunAsync(env.Context(), [arg, $"--out={outDir}"], default));
        Assert.False(Directory.Exists(outDir));
    }

    /// <summary>One pair, so the target-only row is trained by itself (no reverse pair to take it from).</summary>
    [Fact]
    public async Task OnePairTinyRun_WritesMarkdownCsvAndPca()
    {
        var outDir = Path.Combine(env.Dir, "table");
        var code = await AdaptTableCommand.Command.RunAsync(env.Context(),
        [
            $"--backbone={TestEnv.Arch}", "--weights=random", "--pairs=optdigits->mnist", "--seeds=2", "--size=16", "--delta=1",
            "--train-per-domain=40", "--test-per-domain=20", "--batch=8", "--source-steps=2", "--adapt-steps=1", $"--out={outDir}",
        ], default);
        Assert.Equal(0, code);
        var csv = File.ReadAllLines(Path.Combine(outDir, "adapt_table.csv"));
        Assert.Equal(1 + 2 * AdaptExperiment.Table6Rows.Count, csv.Length);    // header + 8 rows x 2 seeds
        Assert.Equal(2, csv.Count(l => l.StartsWith(AdaptExperiment.TargetOnly + ",0,optdigits,mnist,")));
        var md = File.ReadAllText(Path.Combine(outDir, "adapt_table.md"));
        Assert.Contains("| ADDA + Uniform prior + Δ(1) |", md);
        Assert.Contains("it stands in for the paper's USPS and is not USPS", md);
        Assert.True(new FileInfo(Path.Combine(outDir, "pca_optdigits_to_mnist.png")).Length > 1000);
    }
}
