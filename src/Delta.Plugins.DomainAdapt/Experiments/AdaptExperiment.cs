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
/// The paper's Table 6 on the real pairs: per pair and seed, for Δ ∈ {off, Δ(n)} and prior ∈ {off, uniform}:
/// train the source model (Vanilla / Uniform prior row), evaluate it on the target, then run ADDA from it
/// (ADDA / ADDA + Uniform prior row); plus the target-only upper bound (the only row trained on target labels).
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

    private readonly IBackboneRegistry registry;
    private readonly ExperimentSettings s;
    private readonly Device device;
    private readonly ILogger logger;

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
        return results;
    }

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
                using var sourceEncoder = DomainEncoder.Create(registry, s.Architecture, s.Weights, deltaStages, seed, device);
                using var classifier = NewClassifier(sourceEncoder, seed);
                SourceTraining.Train(sourceEncoder, classifier, sourceTrain, uniform, s.Method, seed);
                var sourceBefore = Evaluation.Accuracy(sourceEncoder, classifier, sourceTest);
                var vanillaTarget = Evaluation.Accuracy(sourceEncoder, classifier, targetTest);
                var delta = deltaStages > 0;
                rows.Add(new(uniform ? UniformPrior : Vanilla, delta, pair, seed, vanillaTarget, sourceBefore, sourceBefore, 0));

                using var targetEncoder = sourceEncoder.CloneFor(registry, s.Architecture, s.Weights, seed);
                using (var adda = new AddaTrainer(sourceEncoder, targetEncoder, sourceTrain.Images, targetUnlabelled, uniform, s.Method, seed))
                    adda.Run();
                var addaTarget = Evaluation.Accuracy(targetEncoder, classifier, targetTest);
                var sourceAfter = Evaluation.Accuracy(sourceEncoder, classifier, sourceTest);
                rows.Add(new(uniform ? AddaUniform : Adda, delta, pair, seed, addaTarget, sourceBefore, sourceAfter,
                    targetEncoder.Backbone.TrainableParameterCount));
                logger.LogInformation("{Pair} seed {Seed} Δ({Delta}) uniform={Uniform}: source {SourceBefore:P1}→{SourceAfter:P1}, target {Vanilla:P1} → ADDA {Adda:P1} ({Seconds:F0} s)",
                    pair, seed, deltaStages, uniform, sourceBefore, sourceAfter, vanillaTarget, addaTarget, clock.Elapsed.TotalSeconds);

                if (scatterPath is not null && delta && !uniform)
                    FeatureScatter.Write(scatterPath, $"{pair} (optdigits is not USPS): pooled features, PCA, seed {seed}, ADDA + Δ({deltaStages})",
                        sourceEncoder, targetEncoder, sourceTest.Images, targetTest.Images);
            }

        using (var upper = DomainEncoder.Create(registry, s.Architecture, s.Weights, 0, seed, device))
        using (var head = NewClassifier(upper, seed))
        {
            SourceTraining.Train(upper, head, targetTrain, uniformPrior: false, s.Method, seed);
            rows.Add(new(TargetOnly, false, pair, seed, Evaluation.Accuracy(upper, head, targetTest), double.NaN, double.NaN, 0));
        }
        return rows;
    }

    private SourceClassifier NewClassifier(DomainEncoder encoder, int seed)
    {
        manual_seed(seed);
        var head = new SourceClassifier(encoder.NumFeatures, 10);
        head.to(device);
        return head;
    }
}
