using System.Diagnostics;
using System.Globalization;
using System.Text;
using Delta.Abstractions;
using Delta.Abstractions.Plugins;
using Delta.Data.Datasets;
using Delta.Plugins.Classification.Data;
using Delta.Plugins.Classification.Transfer;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Commands;

/// <summary>
/// `delta transfer`: transfer learning from a pretrained backbone in the low-data protocol (paper Table 5) —
/// vanilla fine-tuning, Bi-Tuning, Δ-Networks(4), Bi-Tuning + Δ-Networks(4) at 15/30/50/100 % of a seeded training
/// pool, same augmentation, step budget and seed — written as transfer.md and transfer.csv.
/// </summary>
public static class TransferCommand
{
    public static PluginCommand Command { get; } = new("transfer",
        "Transfer learning in the low-data protocol (paper Table 5): fine-tuning, Bi-Tuning, Δ-Networks(4), Bi-Tuning + Δ-Networks(4) at 15/30/50/100 % of the training data",
        "delta transfer [--data DATASET (default: the Fashion-MNIST asset)] [--backbone resnet18_cntk:imagenet] [--methods finetune,bituning,delta4,bituning-delta4] " +
        "[--fractions 0.15,0.3,0.5,1] [--size 64] [--batch 32] [--steps 100] [--train-per-class 100] [--test-per-class 100] [--ft-lr 3e-4] [--delta-lr 1e-2] " +
        "[--queue 40] [--momentum 0.999] [--temperature 0.07] [--projection-dim 128] [--trade-off 1] [--seed 0] [--out DIR]",
        RunAsync);

    private static readonly string[] Known =
    [
        "data", "backbone", "methods", "fractions", "size", "batch", "steps", "train-per-class", "test-per-class", "ft-lr", "delta-lr",
        "queue", "momentum", "temperature", "projection-dim", "trade-off", "seed", "out",
    ];

    private static Task<int> RunAsync(TaskContext context, IReadOnlyList<string> raw, CancellationToken ct)
    {
        VerbArguments args;
        TransferSettings settings;
        List<TransferMethod> methods;
        List<double> fractions;
        string dataPath;
        int poolPerClass, testPerClass;
        try
        {
            args = new VerbArguments(raw, Known);
            methods = args.String("methods", string.Join(",", TransferMethod.PaperRows.Select(m => m.Id)))
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(TransferMethod.Parse).ToList();
            fractions = ParseFractions(args.String("fractions", string.Join(",", Splits.LowDataFractions.Select(f => f.ToString(CultureInfo.InvariantCulture)))));
            var backbone = args.String("backbone", "resnet18_cntk:imagenet").Split(':') is [var a, var w] ? (a, w) : (args.String("backbone", ""), "random");
            if (!context.Backbones.Architectures.Any(x => x.Name == backbone.Item1))
                throw new ArgumentException($"Unknown backbone '{backbone.Item1}'. Valid: {string.Join(", ", context.Backbones.Architectures.Select(x => x.Name))}.");
            var bi = new BiTuningSettings
            {
                KeysPerClass = args.Int("queue", 40, 1, 10_000), Momentum = args.Double("momentum", 0.999, 0, 1), Temperature = args.Double("temperature", 0.07, 1e-4, 100),
                ProjectionDim = args.Int("projection-dim", 128, 1, 8192), TradeOff = args.Double("trade-off", 1.0, 0, 1000),
            };
            settings = new TransferSettings
            {
                Architecture = backbone.Item1, Weights = backbone.Item2, ImageSize = args.Int("size", 64, 16, 512), BatchSize = args.Int("batch", 32, 2, 4096),
                Steps = args.Int("steps", 100, 1, 10_000_000), FineTuneLearningRate = args.Double("ft-lr", 3e-4, 1e-7, 1), DeltaLearningRate = args.Double("delta-lr", 1e-2, 1e-7, 1),
                Seed = args.Int("seed", 0, 0, int.MaxValue), BiTuning = bi,
            };
            poolPerClass = args.Int("train-per-class", 100, 1, 1_000_000);
            testPerClass = args.Int("test-per-class", 100, 1, 1_000_000);
            dataPath = args.Has("data") ? Path.GetFullPath(Path.Combine(context.DataRoot, args.String("data", ""))) : AssetPaths.Require(AssetPaths.FashionMnist);
            if (!File.Exists(dataPath) && !Directory.Exists(dataPath)) throw new ArgumentException($"Dataset not found: {dataPath}");
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine($"transfer: {e.Message}");
            return Task.FromResult(2);
        }
        return Task.Run(() => Run(context, args, settings, methods, fractions, dataPath, poolPerClass, testPerClass, ct), ct);
    }

    private static List<double> ParseFractions(string text)
    {
        var list = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) || !(f > 0 && f <= 1))
                throw new ArgumentException($"--fractions: '{part}' is not a number in (0, 1].");
            list.Add(f);
        }
        if (list.Count == 0) throw new ArgumentException("--fractions is empty.");
        return list.Distinct().Order().ToList();
    }

    private static int Run(TaskContext context, VerbArguments args, TransferSettings s, List<TransferMethod> methods, List<double> fractions,
        string dataPath, int poolPerClass, int testPerClass, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        var started = DateTime.UtcNow;
        var options = new ClassificationOptions { ImageSize = s.ImageSize, MaxTrainPerClass = poolPerClass, MaxTestPerClass = testPerClass, ValidationFraction = 0 };
        var data = DatasetResolver.Load(dataPath, options, s.Seed);
        var outDir = Path.GetFullPath(args.String("out", Path.Combine(context.OutputRoot, "transfer")));
        Directory.CreateDirectory(outDir);
        var log = new StringBuilder();
        void Say(string line) { Console.Out.WriteLine(line); log.AppendLine(line); }
        Say($"Transfer to {data.Name} ({data.ClassNames.Count} classes): training pool {data.TrainIndices.Count} images ({poolPerClass}/class at most), test {data.TestIndices.Count} images.");
        Say($"Backbone {s.Architecture} '{s.Weights}', input {s.ImageSize}x{s.ImageSize}, {s.Steps} AdamW steps of batch {s.BatchSize} per run (cosine schedule), " +
            $"lr {s.FineTuneLearningRate.ToString(CultureInfo.InvariantCulture)} when the backbone trains, {s.DeltaLearningRate.ToString(CultureInfo.InvariantCulture)} for Δ + heads; " +
            $"views: random resized crop (area {s.CropScale.Min.ToString(CultureInfo.InvariantCulture)}–{s.CropScale.Max.ToString(CultureInfo.InvariantCulture)}) + horizontal flip; seed {s.Seed}; torch threads {get_num_threads()}.");
        Say($"Bi-Tuning: K = {s.BiTuning.KeysPerClass} keys per class, momentum {s.BiTuning.Momentum.ToString(CultureInfo.InvariantCulture)}, τ = {s.BiTuning.Temperature.ToString(CultureInfo.InvariantCulture)}, " +
            $"projection dim {s.BiTuning.ProjectionDim}, trade-off {s.BiTuning.TradeOff.ToString(CultureInfo.InvariantCulture)}.");

        var runs = new List<TransferRun>();
        using (var experiment = new TransferExperiment(context, data, s))
        {
            foreach (var method in methods)
                foreach (var fraction in fractions)
                {
                    ct.ThrowIfCancellationRequested();
                    var run = experiment.Run(method, fraction, ct);
                    runs.Add(run);
                    Say($"  {method.Name}, {TransferTable.Percent(fraction)} ({run.TrainImages} images): top-1 {100 * run.Top1:F2} % after {run.Steps} steps, {run.Seconds:F0} s" +
                        (run.BaseIntact is { } ok ? $", base intact: {(ok ? "yes" : "NO")}" : ""));
                }
        }
        var table = TransferTable.Markdown(data.Name, runs);
        Say("");
        Say(table);
        Say($"Started {started:yyyy-MM-dd HH:mm} UTC, wall time {total.Elapsed.TotalMinutes:F1} min.");
        var md = Path.Combine(outDir, "transfer.md");
        var csv = Path.Combine(outDir, "transfer.csv");
        File.WriteAllText(md, "# Transfer learning (paper Table 5 layout)\n\n```\n" + log + "```\n\n" + table);
        TransferTable.WriteCsv(csv, runs);
        Console.Out.WriteLine($"wrote {md}, {csv}");
        return runs.Any(r => r.BaseIntact == false) ? 1 : 0;
    }
}
