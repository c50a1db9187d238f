using Delta.Plugins.DomainAdapt.Experiments;
using Delta.Plugins.DomainAdapt.Methods;
using Delta.Plugins.DomainAdapt.Reports;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Tests.Experiments;

/// <summary>The whole Table-6 orchestration on real digits with the test-size backbone and a few steps.</summary>
public sealed class AdaptExperimentTests : IDisposable
{
    private readonly TestEnv env = new();
    public void Dispose() => env.Dispose();

    [Fact]
    public void BothPairs_EveryTable6Row_DeltaRowsKeepTheSourceExact_TargetOnlyIsTheReversePairsVanillaRun()
    {
        var pairs = new List<AdaptPair> { new("mnist", "optdigits"), new("optdigits", "mnist") };
        var settings = new ExperimentSettings
        {
            Pairs = pairs, Architecture = TestEnv.Arch, Weights = "random", ImageSize = 16, DeltaStages = 2,
            TrainPerDomain = 40, TestPerDomain = 20, Seeds = [0],
            Method = new MethodSettings { BatchSize = 8, SourceSteps = 2, AdaptSteps = 2 },
        };
        var results = new AdaptExperiment(env.Registry, settings, CPU, NullLogger.Instance).Run(env.Dir, default);

        foreach (var pair in pairs)
        {
            var mine = results.Where(r => r.Pair == pair).ToList();
            Assert.Equal(AdaptExperiment.Table6Rows.ToHashSet(), mine.Select(r => (r.Method, r.Delta)).ToHashSet());
            Assert.Equal(AdaptExperiment.Table6Rows.Count, mine.Count);
            Assert.All(mine.Where(r => r.Delta), r => Assert.Equal(r.SourceAccuracyBefore, r.SourceAccuracyAfter));
            // ADDA's target side: the Δ-modules only with Δ, the whole backbone copy without.
            var (baseCount, deltaCount) = env.Registry.CountParameters(TestEnv.Arch, new() { Stages = 2 });
            Assert.All(mine.Where(r => r.Method.StartsWith(AdaptExperiment.Adda)),
                r => Assert.Equal(r.Delta ? deltaCount : baseCount, r.TargetTrainableParameters));
            // The reverse pair's Vanilla source model was trained on this pair's target labels, split and seed.
            var reverse = results.Single(r => r.Pair == new AdaptPair(pair.Target, pair.Source) && r.Method == AdaptExperiment.Vanilla && !r.Delta);
            Assert.Equal(reverse.SourceAccuracyBefore, mine.Single(r => r.Method == AdaptExperiment.TargetOnly).TargetAccuracy);
            Assert.True(File.Exists(Path.Combine(env.Dir, $"pca_{pair.Source}_to_{pair.Target}.png")));
        }
        var md = AdaptTable.Markdown(results, pairs, 2, "");
        Assert.Contains("| ADDA + Uniform prior + Δ(2) |", md);
        Assert.DoesNotContain("| ADDA + Uniform prior |", md);
    }
}
