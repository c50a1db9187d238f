using System.Diagnostics;
using System.Text.Json;
using Delta.Abstractions.Backbones;
using Delta.Backbones.Precision;
using Delta.Backbones.Registry;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Bench;

public sealed partial class Suites
{
    /// <summary>
    /// Where the inference time goes, CPU only: each convolution of the real ResNet-18 in the first --precision
    /// (default the fused graph, fp32+cl+fold; fp32 is the exact mode, whose BNs then run outside the convolutions),
    /// timed inside one whole forward at batch B by pre/post hooks on its Conv2d (a BN folded into it runs inside),
    /// and likewise each BatchNorm2d that still runs and the max-pool (the ReLU and add passes, the average pool and the
    /// calls between modules are what the whole forward has beyond their sum), beside
    /// ONNX Runtime's profiler on the same ONNX file (per node, batch-1 graph, times B; ORT fuses each ReLU and
    /// residual add into its Conv node). Rounds interleaved as in <see cref="Inference"/>; medians over --repeats.
    /// </summary>
    public IEnumerable<BenchResult> Layers()
    {
        if (device.type != TorchSharp.DeviceType.CPU)
        {
            yield return new("layers", "per-layer times", double.NaN, "", S(("skipped", "CPU only (compares with ONNX Runtime on the CPU)")));
            yield break;
        }
        var precision = o.PrecisionsChosen ? o.Precisions[0] : BenchPrecision.Fused;
        using var registry = BackboneRegistry.CreateDefault();
        var request = precision.Apply(new BackboneRequest { Architecture = "resnet18_cntk", Weights = "imagenet", Delta = DeltaConfig.None, Device = device });
        using var backbone = registry.Create(request);
        // The network the backbone runs: the shared copy of this kind (the base itself for the exact mode).
        using var lease = registry.AcquireBase(request);
        var copy = lease.Base.Copy(FrozenCopyKind.Of(request));
        var batch = o.InferenceBatch;
        var settings = S(("batch", batch), ("size", 224), ("repeats", o.Repeats), ("precision", precision.Label));

        manual_seed(0);
        using var x = rand(batch, 3, 224, 224, device: device).mul_(255).sub_(120);
        using var ortModel = new OrtResNet18(o, x, profilePrefix: Path.Combine(Path.GetTempPath(), $"delta-bench-ort-{Environment.ProcessId}"));

        // Delta: per-module wall time inside a whole forward (CPU execution is synchronous, so a hook pair brackets the
        // op): convolutions, BatchNorms (the exact mode runs them; folded ones never run) and the max-pool.
        var timed = copy.named_modules()
            .Where(m => m.module is Conv2d or BatchNorm2d or MaxPool2d)
            .Select(m => (m.name, Module: (nn.Module<Tensor, Tensor>)m.module, Times: new List<double>())).ToList();
        var clock = new Stopwatch();
        var hooks = timed.SelectMany(t => new[]
        {
            t.Module.register_forward_pre_hook(_ => clock.Restart()),
            t.Module.register_forward_hook(_ => t.Times.Add(clock.Elapsed.TotalMilliseconds)),
        }).ToList();
        var wholeTimes = new List<double>();
        const int warmup = 2;
        // Interleaved rounds (one Delta batch, then B ORT calls) so that drift and noise hit both alike.
        for (var r = 0; r < o.Repeats + warmup; r++)
        {
            using (inference_mode())
            using (var scope = NewDisposeScope())
            {
                var whole = Stopwatch.StartNew();
                backbone.Forward(x);
                if (r >= warmup) wholeTimes.Add(whole.Elapsed.TotalMilliseconds);
                else foreach (var t in timed) t.Times.Clear();   // warm-up rounds: oneDNN builds its primitives
            }
            ortModel.RunBatch();
        }
        foreach (var hook in hooks) hook.remove();
        var profile = ortModel.EndProfiling();

        var sums = new Dictionary<string, double>();
        foreach (var (name, module, times) in timed.Where(t => t.Times.Count > 0))
        {
            var (kind, label) = module switch
            {
                Conv2d c => ("convolutions", $"conv {name} [{string.Join("x", c.weight!.shape)}]"),
                BatchNorm2d => ("BatchNorms", $"bn {name}"),
                _ => ("max-pools", $"maxpool {name}"),
            };
            var ms = Timing.Median(times);
            sums[kind] = sums.GetValueOrDefault(kind) + ms;
            yield return new("layers", $"delta {label}", ms, "ms", settings);
        }
        foreach (var (kind, ms) in sums) yield return new("layers", $"delta sum of {kind}", ms, "ms", settings);
        yield return new("layers", "delta whole forward", Timing.Median(wholeTimes), "ms", settings);

        var nodes = new List<(string Name, string Op, List<double> Times)>();
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(profile));
            foreach (var e in json.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node" || e.GetProperty("name").GetString() is not { } name || !name.EndsWith("_kernel_time")) continue;
                var node = name[..^"_kernel_time".Length];
                var index = nodes.FindIndex(n => n.Name == node);
                if (index < 0) { nodes.Add((node, e.GetProperty("args").GetProperty("op_name").GetString() ?? "?", [])); index = nodes.Count - 1; }
                nodes[index].Times.Add(e.GetProperty("dur").GetDouble() / 1000.0);   // µs → ms
            }
        }
        finally { File.Delete(profile); }
        var ortSettings = OrtSettings();
        // The warm-up rounds' calls are in the profile too: dropped.
        var perBatch = nodes.Select(n => (n.Name, n.Op, Ms: Timing.Median(n.Times.Skip(warmup * batch)) * batch)).ToList();
        foreach (var n in perBatch) yield return new("layers", $"onnxruntime {n.Op} {n.Name} (x{batch})", n.Ms, "ms", ortSettings);
        yield return new("layers", $"onnxruntime sum of Conv nodes (x{batch})", perBatch.Where(n => n.Op == "Conv").Sum(n => n.Ms), "ms", ortSettings);
        yield return new("layers", $"onnxruntime sum of all nodes (x{batch}, profiled)", perBatch.Sum(n => n.Ms), "ms", ortSettings);
    }
}
