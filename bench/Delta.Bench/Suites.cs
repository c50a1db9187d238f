using System.Diagnostics;
using Delta.Abstractions;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Backbones.Patches;
using Delta.Backbones.Registry;
using Delta.Data.Images;
using Delta.Host.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Bench;

/// <summary>The bench suites. Each returns figures; none asserts anything (targets are judged in docs/PERFORMANCE.md).</summary>
public sealed partial class Suites(BenchOptions o, Device device)
{
    private Dictionary<string, string> S(params (string, object)[] kv) =>
        kv.ToDictionary(p => p.Item1, p => Convert.ToString(p.Item2, System.Globalization.CultureInfo.InvariantCulture)!)
          .Concat(new Dictionary<string, string>
          {
              ["device"] = device.ToString(), ["threads"] = get_num_threads().ToString(),
              ["frozen backward"] = Delta.Backbones.Autograd.FrozenLayerBackward.ActivationFree ? "activation-free" : "libtorch",
          })
          .ToDictionary(p => p.Key, p => p.Value);

    /// <summary>The settings every ONNX Runtime figure carries.</summary>
    private Dictionary<string, string> OrtSettings() =>
        S(("batch", o.InferenceBatch), ("size", 224), ("repeats", o.Repeats), ("precision", "fp32"), ("ort spinning", o.OrtSpinning ? "on" : "off"));

    /// <summary>resnet18_cntk (real weights) eval vs ONNX Runtime on the same ONNX file, same thread count, interleaved.
    /// ORT's graph is batch-1, so ORT runs B single-image calls per batch and Delta one batch of B; rates are per image.
    /// Each precision in <see cref="BenchOptions.InferencePrecisions"/> is timed in the same interleaved rounds.</summary>
    public IEnumerable<BenchResult> Inference()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var request = new BackboneRequest { Architecture = "resnet18_cntk", Weights = "imagenet", Delta = DeltaConfig.None, Device = device };
        var backbones = o.InferencePrecisions.Select(p => (Precision: p, Backbone: registry.Create(p.Apply(request)))).ToList();
        try
        {
            manual_seed(0);
            using var x = rand(o.InferenceBatch, 3, 224, 224).mul_(255).sub_(120).to(device);
            using var ortModel = new OrtResNet18(o, x);
            Action Delta(IDeltaBackbone backbone) => () =>
            {
                using var ng = o.GradMode == "nograd" ? no_grad() : inference_mode(); using var scope = NewDisposeScope(); backbone.Forward(x).Pooled.cpu();
            };
            var deltaTimes = backbones.Select(_ => new List<double>()).ToList(); var ortTimes = new List<double>();
            for (int round = 0; round < o.Repeats; round++)       // interleaved, so drift and noise hit all alike
            {
                for (int i = 0; i < backbones.Count; i++) deltaTimes[i].Add(Timing.MedianSeconds(Delta(backbones[i].Backbone), round == 0 ? 2 : 0, 1));
                ortTimes.Add(Timing.MedianSeconds(ortModel.RunBatch, round == 0 ? 2 : 0, 1));
            }
            var ort = o.InferenceBatch / Timing.Median(ortTimes);
            for (int i = 0; i < backbones.Count; i++)
            {
                var p = backbones[i].Precision;
                var settings = S(("batch", o.InferenceBatch), ("size", 224), ("repeats", o.Repeats), ("precision", p.Label),
                    ("mode", $"eval, {(o.GradMode == "nograd" ? "no_grad" : "inference_mode")}"));
                var delta = o.InferenceBatch / Timing.Median(deltaTimes[i]);
                yield return new("inference", $"delta resnet18_cntk{p.Suffix}", delta, "img/s", settings);
                yield return new("inference", $"delta{p.Suffix} / onnxruntime", delta / ort, "x", settings);
            }
            yield return new("inference", "onnxruntime resnet18 (batch-1 graph, B calls)", ort, "img/s", OrtSettings());
        }
        finally { foreach (var (_, b) in backbones) b.Dispose(); }
    }

    /// <summary>Δ training steps (Δ + linear head trainable, base frozen) and a full fine-tuning step for comparison,
    /// per precision (full fine-tuning is fp32 only: the fast mode needs a frozen base), and each network's eval
    /// (inference) throughput at the same batch and size.</summary>
    public IEnumerable<BenchResult> Train()
    {
        using var registry = BackboneRegistry.CreateDefault();
        foreach (var spec in o.TrainArchitectures)
        {
            var (arch, weights) = ArchAndWeights(spec);
            var fullStepMemory = double.NaN;
            var deltaStepMemory = new List<(string Name, double Mb, Dictionary<string, string> Settings)>();
            var deltas = new[] { 1, 4 }.Where(n => o.TrainVariants.Contains($"delta{n}")).ToList();
            var variants = o.GateStrides.SelectMany(g => deltas.Select(n => (Label: g == 1 ? $"Δ({n})" : $"Δ({n}) s{g}", Delta: n, Trainable: false, Stride: g)))
                .Concat(o.TrainVariants.Contains("full") ? [("full fine-tuning", 0, true, 1)] : []);
            foreach (var (label, delta, trainable, stride) in variants)
            foreach (var precision in o.Precisions)
            {
                if (trainable && !precision.IsExact) continue;
                Timing.ResetPeakRss();
                using var backbone = registry.Create(precision.Apply(new BackboneRequest
                {
                    Architecture = arch, Weights = weights, Delta = new DeltaConfig { Stages = delta, GateStride = stride }, Device = device, TrainableBase = trainable,
                }));
                backbone.ReturnStages = [];                                      // the step reads only the pooled vector
                using var head = nn.Linear(backbone.NumFeatures, 10); head.to(device);
                var parameters = backbone.TrainableParameters.Concat(head.parameters()).ToList();
                manual_seed(0);
                using var x = randn(o.TrainBatch, 3, o.TrainSize, o.TrainSize).to(device);
                using var y = randint(0, 10, [o.TrainBatch], dtype: ScalarType.Int64).to(device);
                var (rate, peakRss, stepMemory) = TrainStepRate(parameters, o.TrainBatch,
                    () => new Dictionary<string, Tensor> { ["ce"] = nn.functional.cross_entropy(head.call(backbone.Forward(x).Pooled), y) },
                    m => { backbone.Train(m); head.train(m); });
                var settings = S(("arch", arch), ("batch", o.TrainBatch), ("size", o.TrainSize), ("steps", o.TrainSteps),
                    ("trainable", parameters.Sum(p => p.numel())), ("precision", precision.Label));
                yield return new("train", $"{arch} {label}{precision.Suffix} train step", rate, "img/s", settings);
                yield return new("train", $"{arch} {label}{precision.Suffix} peak RSS", peakRss, "MB", settings);
                if (o.ExactMemory)
                {
                    yield return new("train", $"{arch} {label}{precision.Suffix} step memory", stepMemory, "MB", settings);
                    if (trainable) fullStepMemory = stepMemory;
                    else deltaStepMemory.Add(($"{arch} {label}{precision.Suffix}", stepMemory, settings));
                }
                // The same network in eval (Δ-modules and head included), no autograd; the .cpu() read makes a CUDA
                // run wait for its kernels, so the time is the device's.
                backbone.Train(false); head.eval();
                var inference = Timing.MedianSeconds(() =>
                {
                    using var noGrad = inference_mode(); using var scope = NewDisposeScope();
                    head.call(backbone.Forward(x).Pooled).cpu();
                }, 2, Math.Max(3, o.TrainSteps));
                yield return new("train", $"{arch} {label}{precision.Suffix} inference", o.TrainBatch / inference, "img/s", settings);
            }
            // Δ-training's step memory against full fine-tuning's (the issue's "≤ 50 %"), once both have run.
            if (fullStepMemory > 0)
                foreach (var (name, mb, settings) in deltaStepMemory)
                    yield return new("train", $"{name} step memory / full fine-tuning", mb / fullStepMemory, "x", settings);
        }
    }

    /// <summary>img/s of <see cref="BenchOptions.TrainSteps"/> steps of the host's <see cref="Trainer"/> (AdamW, the
    /// same batch every step) after 2 warm-up steps, the process's peak RSS until then, and with --exact-memory the
    /// memory of one more step (<see cref="Timing.StepMemoryMb"/>; host memory: CPU runs only; NaN otherwise);
    /// <paramref name="losses"/> computes one step's named losses.</summary>
    internal (double Rate, double PeakRssMb, double StepMemoryMb) TrainStepRate(IReadOnlyList<Parameter> parameters, int batch, Func<IReadOnlyDictionary<string, Tensor>> losses, Action<bool> setTrainMode)
    {
        var trainer = new Trainer();
        TrainLoop<Step> Loop(int steps) => SameBatchLoop(parameters, batch, losses, setTrainMode, steps);
        trainer.Fit(Loop(2), CancellationToken.None);                                      // warm-up: 2 steps
        var watch = Stopwatch.StartNew();
        trainer.Fit(Loop(o.TrainSteps), CancellationToken.None);
        var rate = o.TrainSteps * batch / watch.Elapsed.TotalSeconds;
        var peakRss = Timing.PeakRssMb();   // before the memory step resets the high-water mark
        if (!o.ExactMemory) return (rate, peakRss, double.NaN);
        // One more step for memory, untimed: a fresh Fit (AdamW's state is allocated inside it) with the gradients
        // cleared, so the figure holds gradients, optimizer state, activations and temporaries — what training needs
        // beyond the weights, as PyTorch's max_memory_allocated would count it above the model.
        foreach (var p in parameters) p.grad = null;
        var stepMemory = StepMemoryMb(() => trainer.Fit(Loop(1), CancellationToken.None));
        return (rate, peakRss, stepMemory);
    }

    /// <summary><paramref name="steps"/> AdamW steps of the host's <see cref="Trainer"/> (constant learning rate) on the
    /// same batch, whose named losses <paramref name="losses"/> computes.</summary>
    private static TrainLoop<Step> SameBatchLoop(IReadOnlyList<Parameter> parameters, int batch, Func<IReadOnlyDictionary<string, Tensor>> losses,
        Action<bool> setTrainMode, int steps) => new()
    {
        Parameters = parameters,
        Losses = _ => losses(),
        Batches = _ => Enumerable.Range(0, steps).Select(_ => new Step()),
        Hyper = new TrainingHyperParameters { Epochs = 1, MaxSteps = steps, BatchSize = batch, Schedule = "constant" },
        SetTrainMode = setTrainMode,
    };

    /// <summary>What one step adds to memory in use: host RSS on the CPU (<see cref="Timing.StepMemoryMb"/>), GPU memory
    /// on CUDA (<see cref="CudaMemory.StepMemoryMb"/>).</summary>
    private double StepMemoryMb(Action step) =>
        device.type == TorchSharp.DeviceType.CUDA ? CudaMemory.StepMemoryMb(step, device) : Timing.StepMemoryMb(step);

    internal static (string Architecture, string Weights) ArchAndWeights(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length != 2) throw new ArgumentException($"Expected an architecture:weights entry, got '{spec}'.");
        return (parts[0], parts[1]);
    }

    private sealed record Step : IDisposable { public void Dispose() { } }   // the step's tensors are the suite's, the same every step

    /// <summary>Decode + resize of real photos with OpenCvSharp, on one thread (per-core rate).</summary>
    public IEnumerable<BenchResult> Data()
    {
        var files = Directory.GetFiles(AssetPaths.Require(AssetPaths.Photos)).Where(f => f.EndsWith(".png") || f.EndsWith(".jpg")).ToArray();
        // Per core: one libtorch thread while timing (a loader worker runs one item at a time), restored afterwards.
        var threads = get_num_threads();
        set_num_threads(1);
        try
        {
            // The training pipeline's per-item augmentation (Delta.Data.Transforms), as a BatchLoader worker runs it.
            var augment = new Delta.Data.Transforms.Compose(new Delta.Data.Transforms.RandomResizedCrop(224), new Delta.Data.Transforms.HorizontalFlip());
            var rng = new Random(0);
            foreach (var (name, work) in new (string, Func<Tensor, Tensor>)[]
                     {
                         ("decode + resize to 224", t => nn.functional.interpolate(t.unsqueeze(0), [224, 224], mode: InterpolationMode.Bilinear, align_corners: false)),
                         ("decode + RandomResizedCrop 224 + flip", t => augment.Apply(t, rng)),
                     })
            {
                var count = 0;
                var seconds = Timing.MedianSeconds(() =>
                {
                    count = 0;
                    foreach (var f in files)
                    {
                        using var scope = NewDisposeScope();
                        work(ImageCodec.ReadRgb(f));
                        count++;
                    }
                }, 1, o.Repeats);
                yield return new("data", $"{name} (photos, 1 thread)", count / seconds, "img/s", S(("images", count)));   // S() records threads=1
            }
        }
        finally { set_num_threads(threads); }
    }

    /// <summary>Loading a Δ(1) patch from disk onto the shared base, and switching between two loaded tasks.</summary>
    public IEnumerable<BenchResult> Patches()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var dir = Directory.CreateTempSubdirectory("delta-bench-").FullName;
        try
        {
            var store = new PatchStore(dir);
            var request = new BackboneRequest { Architecture = "resnet18_cntk", Weights = "imagenet", Delta = new DeltaConfig { Stages = 1 }, Device = device };
            using var a = registry.Create(request);
            using var b = registry.Create(request with { Seed = 1 });
            var id = a.Base;
            store.Save("bench", new Delta.Abstractions.Patches.PatchManifest
            {
                Architecture = id.Architecture, BaseWeights = id.Weights, BaseWeightsSha256 = id.WeightsSha256, Delta = a.Delta, PluginId = "bench", Task = "bench",
            }, a.DeltaState());
            var load = Timing.MedianSeconds(() => { using var p = store.Load("bench", id); b.LoadDeltaState(p.Section("delta").ToDictionary(kv => "delta." + kv.Key, kv => kv.Value)); }, 2, o.Repeats);
            using var x = rand(1, 3, 224, 224).to(device);
            var sw = Timing.MedianSeconds(() =>
            {
                using var ng = inference_mode(); using var scope = NewDisposeScope();
                a.Forward(x); b.Forward(x);
            }, 2, o.Repeats);
            var single = Timing.MedianSeconds(() => { using var ng = inference_mode(); using var scope = NewDisposeScope(); a.Forward(x); }, 2, o.Repeats);
            yield return new("patch", "load Δ(1) patch (read, verify, apply)", load * 1000, "ms", S(("arch", "resnet18_cntk")));
            yield return new("patch", "task switch overhead (two tasks vs one, batch 1)", (sw - 2 * single) * 1000, "ms", S(("arch", "resnet18_cntk")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
