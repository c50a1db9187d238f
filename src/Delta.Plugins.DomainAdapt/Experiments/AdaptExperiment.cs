using System.Diagnostics;
using Delta.Abstractions.Backbones;
using Delta.Plugins.DomainAdapt.Data;
using Delta.Plugins.DomainAdapt.Methods;
using Delta.Plugins.DomainAdapt.Models;
using Delta.Plugins.DomainAdapt.Reports;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Experiments;

/// <summary>
/// The paper's Table 6 on the real pairs. Per pair and seed, one source model per (Δ ∈ {off, Δ(n)}, prior ∈ {off, uniform})
/// is trained on source labels and evaluated on the target (Vanilla / Uniform prior rows); ADDA then starts from
/// that same source model (ADDA, ADDA + Δ, ADDA + Uniform prior + Δ rows), so each source model is trained once and
/// shared by the rows that start from it. The target-only upper bound (the only row trained on target labels) is
/// the same training run as the Vanilla source model of the reverse pair (same domain, split, seed, initialisation
/// and budget), so when both pairs run it is taken from there instead of being trained twice.
/// Adaptation receives the target training images as <see cref="UnlabelledImages"/>.
/// </summary>
public sealed class AdaptExperiment
{
    public const string Vanilla = "Vanilla";
    public const string UniformPrior = "Uniform prior";
    public const string Adda = "ADDA";
    public const string AddaUniform = "ADDA + Uniform prior";
    public const string TargetOnly = "Target only (upper bound)";
    public static readonly IReadOnlyList<string> MethodOrder = [Vanilla, UniformPrior, Adda, AddaUniform];

    /// <summary>The paper's Table 6 rows: (method, with Δ). ADDA + Uniform prior appears only with Δ.</summary>
    public static readonly IReadOnlyList<(string Method, bool Delta)> Table6Rows =
    [
        (Vanilla, false), (Vanilla, true), (UniformPrior, false), (UniformPrior, true),
        (Adda, false), (Adda, true), (AddaUniform, true), (TargetOnly, false),
    ];

    private readonly IBackboneRegistry registry;
    private readonly ExperimentSettings s;
    private readonly Device device;
    private readonly ILogger logger;
    /// <summary>Held-out accuracy of the plain supervised model (no Δ, no prior) per (domain, seed): a Vanilla source model.</summary>
    private readonly Dictionary<(string Domain, int Seed), double> supervised = [];

    public AdaptExperiment(IBackboneRegistry registry, ExperimentSettings settings, Device device, ILogger logger)
    {
        var problems = settings.Method.Validate().ToList();
        if (settings.Seeds.Count == 0) problems.Add("at least one seed is needed.");
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems));
        this.registry = registry; s = settings; this.device = device; this.logger = logger;
    }

    /// <summary>Runs every row; writes the PCA scatter of the first seed's ADDA + Δ run per pair into <paramref name="outputDir"/>.</summary>
    public IReadOnlyList<RowResult> Run(string outputDir, CancellationToken ct)
    {
        var results = new List<RowResult>();
        foreach (var pair in s.Pairs)
        {
            using var sourceAll = DigitDomains.Load(pair.Source, s.ImageSize);
            using var targetAll = DigitDomains.Load(pair.Target, s.ImageSize);
            foreach (var seed in s.Seeds)
            {
                var (sourceTrain, sourceTest) = DigitDomains.Split(sourceAll, s.TrainPerDomain, s.TestPerDomain, seed);
                var (targetTrain, targetTest) = DigitDomains.Split(targetAll, s.TrainPerDomain, s.TestPerDomain, seed);
                using (sourceTrain) using (sourceTest) using (targetTrain) using (targetTest)
                {
                    var scatter = Path.Combine(outputDir, $"pca_{pair.Source}_to_{pair.Target}.png");
                    results.AddRange(RunSeed(pair, seed, sourceTrain, sourceTest, targetTrain, targetTest,
                        seed == s.Seeds[0] ? scatter : null, ct));
                }
            }
        }
        foreach (var pair in s.Pairs)
        {
            LabelledImages? targetAll = null;
            try
            {
                foreach (var seed in s.Seeds)
                {
                    ct.ThrowIfCancellationRequested();
                    if (supervised.TryGetValue((pair.Target, seed), out var shared))
                    {
                        results.Add(new(TargetOnly, false, pair, seed, shared, double.NaN, double.NaN, 0));
                        continue;
                    }
                    targetAll ??= DigitDomains.Load(pair.Target, s.ImageSize);
                    var (targetTrain, targetTest) = DigitDomains.Split(targetAll, s.TrainPerDomain, s.TestPerDomain, seed);
                    using (targetTrain) using (targetTest)
                        results.Add(new(TargetOnly, false, pair, seed, Supervised(targetTrain, targetTest, seed), double.NaN, double.NaN, 0));
                }
            }
            finally { targetAll?.Dispose(); }
        }
        return results;
    }

    /// <summary>The adaptation rows of one pair and seed (every <see cref="Table6Rows"/> entry but the target-only one).</summary>
    public IEnumerable<RowResult> RunSeed(AdaptPair pair, int seed, LabelledImages sourceTrain, LabelledImages sourceTest,
        LabelledImages targetTrain, LabelledImages targetTest, string? scatterPath, CancellationToken ct)
    {
        var rows = new List<RowResult>();
        using var targetUnlabelled = targetTrain.WithoutLabels();
        foreach (var deltaStages in new[] { 0, s.DeltaStages })
            foreach (var uniform in new[] { false, true })
            {
                ct.ThrowIfCancellationRequested();
                var clock = Stopwatch.StartNew();
                var delta = deltaStages > 0;
                using var sourceEncoder = DomainEncoder.Create(registry, s.Architecture, s.Weights, deltaStages, seed, device);
                using var classifier = SourceClassifier.Seeded(sourceEncoder.NumFeatures, 10, seed, device);
                SourceTraining.Train(sourceEncoder, classifier, sourceTrain, uniform, s.Method, seed);
                var sourceBefore = Evaluation.Accuracy(sourceEncoder, classifier, sourceTest);
                var vanillaTarget = Evaluation.Accuracy(sourceEncoder, classifier, targetTest);
                rows.Add(new(uniform ? UniformPrior : Vanilla, delta, pair, seed, vanillaTarget, sourceBefore, sourceBefore, 0));
                if (!delta && !uniform) supervised[(pair.Source, seed)] = sourceBefore;

                var addaMethod = uniform ? AddaUniform : Adda;
                if (!Table6Rows.Contains((addaMethod, delta)))
                {
                    logger.LogInformation("{Pair} seed {Seed} Δ({Delta}) uniform={Uniform}: source {Source:P1}, target {Target:P1} ({Seconds:F0} s)",
                        pair, seed, deltaStages, uniform, sourceBefore, vanillaTarget, clock.Elapsed.TotalSeconds);
                    continue;
                }
                using var targetEncoder = sourceEncoder.CloneFor(registry, s.Architecture, s.Weights, seed);
                using (var adda = new AddaTrainer(sourceEncoder, targetEncoder, sourceTrain.Images, targetUnlabelled, uniform, s.Method, seed))
                    adda.Run();
                var addaTarget = Evaluation.Accuracy(targetEncoder, classifier, targetTest);
                var sourceAfter = Evaluation.Accuracy(sourceEncoder, classifier, sourceTest);
                rows.Add(new(addaMethod, delta, pair, seed, addaTarget, sourceBefore, sourceAfter,
                    targetEncoder.Backbone.TrainableParameterCount));
                logger.LogInformation("{Pair} seed {Seed} Δ({Delta}) uniform={Uniform}: source {SourceBefore:P1}→{SourceAfter:P1}, target {Vanilla:P1} → ADDA {Adda:P1} ({Seconds:F0} s)",
                    pair, seed, deltaStages, uniform, sourceBefore, sourceAfter, vanillaTarget, addaTarget, clock.Elapsed.TotalSeconds);

                if (scatterPath is not null && delta && !uniform)
                    FeatureScatter.Write(scatterPath, $"{pair}: PCA of pooled features, ADDA + Δ({deltaStages}), seed {seed}",
                        sourceEncoder, targetEncoder, sourceTest.Images, targetTest.Images);
            }
        return rows;
    }

    /// <summary>Plain supervised training (no Δ, no prior) on <paramref name="train"/>; held-out accuracy on <paramref name="test"/>.</summary>
    private double Supervised(LabelledImages train, LabelledImages test, int seed)
    {
        using var encoder = DomainEncoder.Create(registry, s.Architecture, s.Weights, 0, seed, device);
        using var head = SourceClassifier.Seeded(encoder.NumFeatures, 10, seed, device);
        SourceTraining.Train(encoder, head, train, uniformPrior: false, s.Method, seed);
        return Evaluation.Accuracy(encoder, head, test);
    }
}
