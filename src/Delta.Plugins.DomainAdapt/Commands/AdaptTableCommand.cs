using System.Diagnostics;
using Delta.Abstractions.Plugins;
using Delta.Plugins.DomainAdapt.Experiments;
using Delta.Plugins.DomainAdapt.Methods;
using Delta.Plugins.DomainAdapt.Reports;

namespace Delta.Plugins.DomainAdapt.Commands;

/// <summary>`delta adapt-table`: the paper's Table 6 on the real pairs (MNIST ↔ UCI optdigits), every row mean ± std
/// over the seeds, as markdown + CSV, plus one PCA scatter per pair (features before/after ADDA + Δ). The defaults are the
/// budget of the run in docs/domainadapt.md (about 20 min on 2 loaded CPU cores).</summary>
public static class AdaptTableCommand
{
    public static PluginCommand Command { get; } = new("adapt-table",
        "Domain adaptation table like the paper's Table 6 (Vanilla, Uniform prior, ADDA, each ±Δ; ADDA + Uniform prior + Δ; target-only) on MNIST↔optdigits",
        "delta adapt-table [--pairs=mnist->optdigits,optdigits->mnist] [--backbone=resnet18_cntk] [--weights=imagenet] [--delta=4] [--size=32] [--seeds=3] [--train-per-domain=500] [--test-per-domain=300] [--batch=32] [--source-steps=50] [--adapt-steps=35] [--lr=0.001] [--delta-lr=0.005] [--adapt-lr=0.0002] [--adapt-delta-lr=0.001] [--uniform-weight=0.5] [--uniform-t=2] [--out=DIR]",
        RunAsync);

    private static readonly string[] Known = ["pairs", "backbone", "weights", "delta", "size", "seeds", "train-per-domain", "test-per-domain", "batch", "source-steps", "adapt-steps", "lr", "delta-lr", "adapt-lr", "adapt-delta-lr", "uniform-weight", "uniform-t", "out"];

    private static Task<int> RunAsync(TaskContext context, IReadOnlyList<string> raw, CancellationToken ct) => Task.Run(() =>
    {
        ExperimentSettings s;
        string outDir;
        try
        {
            var a = new VerbArguments(raw, Known);
            var backbone = a.String("backbone", "resnet18_cntk");
            var known = context.Backbones.Architectures.Select(x => x.Name).ToList();
            if (!known.Contains(backbone)) throw new ArgumentException($"Unknown backbone '{backbone}'. Valid: {string.Join(", ", known)}.");
            s = new ExperimentSettings
            {
                Pairs = a.String("pairs", "mnist->optdigits,optdigits->mnist").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(AdaptPair.Parse).ToList(),
                Architecture = backbone,
                Weights = a.String("weights", "imagenet"),
                DeltaStages = a.Int("delta", 4, 1, 4),
                ImageSize = a.Int("size", 32, 16, 224),
                Seeds = Enumerable.Range(0, a.Int("seeds", 3, 1, 10)).ToList(),
                TrainPerDomain = a.Int("train-per-domain", 500, 20, 100_000),
                TestPerDomain = a.Int("test-per-domain", 300, 10, 100_000),
                Method = new MethodSettings
                {
                    BatchSize = a.Int("batch", 32, 2, 1024),
                    SourceSteps = a.Int("source-steps", 50, 1, 1_000_000),
                    AdaptSteps = a.Int("adapt-steps", 35, 0, 1_000_000),
                    LearningRate = a.Double("lr", 1e-3, 1e-7, 1),
                    DeltaLearningRate = a.Double("delta-lr", 5e-3, 1e-7, 1),
                    AdaptLearningRate = a.Double("adapt-lr", 2e-4, 1e-7, 1),
                    AdaptDeltaLearningRate = a.Double("adapt-delta-lr", 1e-3, 1e-7, 1),
                    UniformWeight = a.Double("uniform-weight", 0.5, 0, 100),
                    UniformTemperature = a.Double("uniform-t", 2, 1e-6, 100),
                },
            };
            outDir = Path.GetFullPath(a.String("out", Path.Combine(context.OutputRoot, "adapt-table")));
        }
        catch (ArgumentException e) { Console.Error.WriteLine($"adapt-table: {e.Message}"); return 2; }

        Directory.CreateDirectory(outDir);
        var clock = Stopwatch.StartNew();
        var results = new AdaptExperiment(context.Backbones, s, context.Device, context.Logger).Run(outDir, ct);
        var m = s.Method;
        var footer = $"Target top-1 on held-out target images, mean ± std over {s.Seeds.Count} seeds. optdigits = UCI optdigits (8x8 digits, other writers); " +
            $"it stands in for the paper's USPS and is not USPS. Backbone {s.Architecture} ({s.Weights}), input {s.ImageSize}x{s.ImageSize} (grey → 3 channels), " +
            $"≤{s.TrainPerDomain} train / ≤{s.TestPerDomain} test images per domain; batch {m.BatchSize}; {m.SourceSteps} source steps (Adam, lr {m.LearningRate} without Δ, {m.DeltaLearningRate} with Δ); " +
            $"{m.AdaptSteps} ADDA steps (Adam β1 0.5; discriminator lr {m.AdaptLearningRate}, target encoder lr {m.AdaptLearningRate} without Δ, {m.AdaptDeltaLearningRate} with Δ). " +
            $"Uniform prior: L_unif (Wang & Isola 2020) on the L2-normalised pooled C5 features, t = {m.UniformTemperature}, weight {m.UniformWeight}. " +
            $"What trains: Vanilla / Uniform prior = the whole backbone (a private copy) + classifier on source labels; + Δ({s.DeltaStages}) = only Δ-modules + classifier over the frozen base. " +
            $"ADDA rows start from the same source model as the Vanilla (or Uniform prior) row of that seed and train a target encoder (without Δ: a full copy; with Δ: a copy of the source Δ-modules only, " +
            $"the base and the source Δ-modules stay frozen) against a domain discriminator on unlabelled target images; the classifier is the source one, unchanged. " +
            $"Target only = the whole backbone + classifier on target labels (the only row that sees target labels; with both pairs in the run it is the reverse pair's Vanilla source model, the same training run). " +
            $"Wall time {clock.Elapsed.TotalMinutes:F1} min on {context.Device.type}.";
        var md = "# Domain adaptation (paper Table 6 layout)\n\n" + AdaptTable.Markdown(results, s.Pairs, s.DeltaStages, footer);
        File.WriteAllText(Path.Combine(outDir, "adapt_table.md"), md);
        File.WriteAllText(Path.Combine(outDir, "adapt_table.csv"), AdaptTable.Csv(results, s.DeltaStages));
        Console.WriteLine(md);
        Console.WriteLine($"Wrote {outDir}/adapt_table.md, adapt_table.csv and pca_*.png");
        return 0;
    }, ct);
}
