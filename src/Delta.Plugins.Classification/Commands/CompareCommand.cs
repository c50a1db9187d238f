using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Plugins.Classification.Adapters;
using Delta.Plugins.Classification.Data;
using Delta.Plugins.Classification.Experiments;
using Delta.Plugins.Classification.Reports;

namespace Delta.Plugins.Classification.Commands;

/// <summary>
/// `delta compare`: a matrix of methods × backbones on a base task and a new task, at one budget, written as
/// markdown + CSV laid out like the paper's tables (with parameter counts and patch sizes) and a PNG bar chart.
/// Methods: fc-only, paint, delta1/delta2/delta4, adapter-series, adapter-parallel, bn-adapt (Rebuffi et al. 2017/2018
/// residual adapters and BN adaptation, see <see cref="AdaptedBackbone"/>), and the Table 8 ablations as VARIANT-N[-nobn]
/// (e.g. all-fixed-4, all-learnable-4-nobn, existing-learnable-1, random-4).
/// </summary>
public static class CompareCommand
{
    public static PluginCommand Command { get; } = new("compare",
        "Compare patching methods (FC-only, PAINT, residual adapters, BN adaptation, Δ(1/2/4), Table 8 ablations) across backbones on a base and a new task",
        "delta compare --base DATASET --target DATASET [--backbones resnet18_cntk:imagenet,...] [--methods fc-only,delta1,delta4,delta4s4,paint,adapter-series,adapter-parallel,bn-adapt,all-fixed-4,...] [--size 64] [--epochs 3] [--train-per-class 200] [--test-per-class 50] [--delta-lr 0.01] [--head-lr 0.01] [--seed 0] [--out DIR]",
        RunAsync);

    private static readonly string[] Known = ["base", "target", "backbones", "methods", "size", "epochs", "train-per-class", "test-per-class", "out", "seed", "delta-lr", "head-lr"];

    public static DeltaConfig? ParseDeltaMethod(string method)
    {
        // deltaN, or deltaNsS: Δ(N) with gate stride S (DeltaConfig.GateStride).
        var plain = System.Text.RegularExpressions.Regex.Match(method, @"^delta(\d)(?:s(\d+))?$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        if (plain.Success)
            return new DeltaConfig { Stages = int.Parse(plain.Groups[1].Value), GateStride = plain.Groups[2].Success ? int.Parse(plain.Groups[2].Value) : 1 };
        var parts = method.Split('-');
        var noBn = parts[^1].Equals("nobn", StringComparison.OrdinalIgnoreCase);
        if (noBn) parts = parts[..^1];
        if (parts.Length < 2 || !int.TryParse(parts[^1], out var stages)) return null;
        var variant = string.Join("-", parts[..^1]);
        return DeltaConfig.VariantNames.TryGetValue(variant, out var v) ? new DeltaConfig { Stages = stages, Variant = v, BatchNorm = !noBn } : null;
    }

    private static Task<int> RunAsync(TaskContext context, IReadOnlyList<string> raw, CancellationToken ct) => Task.Run(() =>
    {
        VerbArguments args;
        List<string> methods;
        List<(string Arch, string Weights)> backbones;
        try
        {
            args = new VerbArguments(raw, Known, ["json"]);
            if (!args.Has("base") || !args.Has("target")) throw new ArgumentException("--base and --target are required.");
            methods = args.String("methods", "fc-only,delta1,delta4,paint").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            foreach (var m in methods)
                if (m is not ("fc-only" or "paint") && !AdapterKinds.TryParse(m, out _) && ParseDeltaMethod(m) is null)
                    throw new ArgumentException($"Unknown method '{m}'. Valid: fc-only, paint, {string.Join(", ", AdapterKinds.Names.Keys)}, deltaN, deltaNsS (gate stride S), or VARIANT-N[-nobn] with VARIANT in {string.Join(", ", DeltaConfig.VariantNames.Keys)}.");
            backbones = args.String("backbones", "resnet18_cntk:imagenet").Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Select(b => b.Split(':') is [var a, var w] ? (a, w) : (b, "random")).ToList();
            var known = context.Backbones.Architectures.Select(a => a.Name).ToHashSet();
            foreach (var (a, _) in backbones) if (!known.Contains(a)) throw new ArgumentException($"Unknown backbone '{a}'. Valid: {string.Join(", ", known)}.");
        }
        catch (ArgumentException e) { Console.Error.WriteLine($"compare: {e.Message}"); return 2; }

        var outDir = Path.GetFullPath(args.String("out", Path.Combine(context.OutputRoot, "compare")));
        Directory.CreateDirectory(outDir);
        var rows = new List<MethodResult>();
        foreach (var (arch, weights) in backbones)
        {
            var s = new ExperimentSettings
            {
                Architecture = arch, Weights = weights, ImageSize = args.Int("size", 64, 16, 512), Epochs = args.Int("epochs", 3, 1, 1000), Seed = args.Int("seed", 0, 0, int.MaxValue),
                DeltaLearningRate = args.Double("delta-lr", 1e-2, 1e-6, 1), HeadLearningRate = args.Double("head-lr", 1e-2, 1e-6, 1),
            };
            var split = new ClassificationOptions { ImageSize = s.ImageSize, MaxTrainPerClass = args.Int("train-per-class", 200, 1, 100000), MaxTestPerClass = args.Int("test-per-class", 50, 1, 100000), ValidationFraction = 0 };
            var baseData = DatasetResolver.Load(Resolve(context, args.String("base", "")), split, s.Seed);
            var target = DatasetResolver.Load(Resolve(context, args.String("target", "")), split, s.Seed);
            using var baseModel = new BaseModel(context.Backbones, baseData, s, context.Device);
            var experiment = new PatchingExperiment(context, baseModel, s, outDir);
            foreach (var m in methods)
            {
                ct.ThrowIfCancellationRequested();
                var name = $"compare-{target.Name}-{arch}-{m}";
                if (m == "fc-only") rows.Add(experiment.FcOnly(target, name));
                else if (m == "paint") rows.Add(experiment.Paint(target).Result);
                else if (AdapterKinds.TryParse(m, out var adapter))
                {
                    var (r, model, _) = experiment.Adapter(target, adapter, name);
                    model.Dispose();
                    rows.Add(r);
                }
                else
                {
                    var (r, model, _) = experiment.Delta(target, ParseDeltaMethod(m)!, name);
                    model.Dispose();
                    rows.Add(r);
                }
                Console.Error.WriteLine($"compare: {arch} {m}: patched {ResultTable.Pct(rows[^1].Patched)} %, base {ResultTable.Pct(rows[^1].BaseAfter)} % ({rows[^1].Seconds:F0} s)");
            }
        }
        Console.Out.Write(ResultTable.Text(rows));
        File.WriteAllText(Path.Combine(outDir, "compare.md"), ResultTable.Markdown(rows));
        ResultTable.WriteCsv(Path.Combine(outDir, "compare.csv"), rows);
        ResultTable.WriteBarChart(Path.Combine(outDir, "compare.png"), "Patching methods", rows);
        Console.Out.WriteLine($"wrote {Path.Combine(outDir, "compare.md")}, compare.csv, compare.png");
        return 0;
    }, ct);

    private static string Resolve(TaskContext context, string path)
    {
        var full = Path.GetFullPath(Path.Combine(context.DataRoot, path));
        if (!File.Exists(full) && !Directory.Exists(full)) throw new FileNotFoundException($"Dataset not found: {full}");
        return full;
    }
}
