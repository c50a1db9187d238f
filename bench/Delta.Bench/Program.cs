using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Delta.Bench;
using TorchSharp;

// delta bench [inference] [layers] [train] [data] [patch] [precision] [detection] [segmentation] [gradcheck] [syncs] [--device cpu|cuda] [--batch N] [--size N]
//             [--steps N] [--repeats N] [--threads N] [--grad-mode inference|nograd] [--ort-spinning on|off] [--archs arch:weights,...]
//             [--fast | --precision fp32,fp32+cl+fold,bf16,bf16+cl,...] [--precision-images N] [--gate-strides 1,4] [--train-variants delta1,delta4,full] [--task-arch arch:weights] [--task-batch N]
//             [--task-size N] [--exact-memory] [--json FILE]
const string Usage = "usage: delta bench [inference] [layers] [train] [data] [patch] [precision] [detection] [segmentation] [gradcheck] [syncs] [--device cpu|cuda] [--batch N] [--size N] [--steps N] [--repeats N] [--threads N] [--grad-mode inference|nograd] [--ort-spinning on|off] [--archs arch:weights,...] [--fast | --precision fp32,fp32+cl+fold,bf16,bf16+cl,...] [--precision-images N] [--gate-strides 1,4] [--train-variants delta1,delta4,full] [--task-arch arch:weights] [--task-batch N] [--task-size N] [--exact-memory] [--json FILE]";
var suites = new List<string>();
var o = new BenchOptions();
string device = "cpu"; string? json = null; int? threads = null;
// A wrong option or value is the user's to fix: say which and exit 2, no stack trace.
string[] knownSuites = ["inference", "layers", "train", "data", "patch", "precision", "detection", "segmentation", "gradcheck", "syncs"];
try
{
    for (int i = 0; i < args.Length; i++)
    {
        string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
        int Int() => ParseInt(args[i], Next());
        switch (args[i])
        {
            case "--device": device = Next(); break;
            case "--batch": o = o with { TrainBatch = Int() }; break;
            case "--inference-batch": o = o with { InferenceBatch = Int() }; break;
            case "--size": o = o with { TrainSize = Int() }; break;
            case "--steps": o = o with { TrainSteps = Int() }; break;
            case "--repeats": o = o with { Repeats = Int() }; break;
            case "--threads": threads = Int(); break;
            case "--ort-spinning":
                var spin = Next();
                o = o with { OrtSpinning = spin is "on" or "off" ? spin == "on" : throw new ArgumentException($"--ort-spinning is on or off, got '{spin}'") };
                break;
            case "--grad-mode":
                var mode = Next();
                o = o with { GradMode = mode is "inference" or "nograd" ? mode : throw new ArgumentException($"--grad-mode is inference or nograd, got '{mode}'") };
                break;
            case "--archs": o = o with { TrainArchitectures = Next().Split(',', StringSplitOptions.RemoveEmptyEntries) }; break;
            case "--fast": o = o with { Precisions = [BenchPrecision.Fp32, BenchPrecision.Fast, BenchPrecision.FastDeltaBf16, BenchPrecision.FastAutocast], PrecisionsChosen = true }; break;
            case "--precision": o = o with { Precisions = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(BenchPrecision.Parse).ToList(), PrecisionsChosen = true }; break;
            case "--precision-images": o = o with { PrecisionImages = Int() }; break;
            case "--train-variants":
                var variants = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var unknown = variants.Except(["delta1", "delta4", "full"]).ToList();
                if (unknown.Count > 0) throw new ArgumentException($"Unknown train variant(s) {string.Join(", ", unknown)}: delta1, delta4, full.");
                o = o with { TrainVariants = variants };
                break;
            case "--gate-strides": o = o with { GateStrides = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(v => ParseInt("--gate-strides", v)).ToList() }; break;
            case "--task-arch": o = o with { TaskArchitecture = Next() }; break;
            case "--task-batch": o = o with { TaskBatch = Int() }; break;
            case "--task-size": o = o with { TaskSize = Int() }; break;
            case "--json": json = Next(); break;
            case "--exact-memory": o = o with { ExactMemory = true }; break;
            case "-h" or "--help":
                Console.WriteLine(Usage);
                return 0;
            case var s when !s.StartsWith("--"): suites.Add(s); break;
            default: Console.Error.WriteLine($"bench: unknown option {args[i]}"); return 2;
        }
    }
    foreach (var s in suites)
        if (!knownSuites.Contains(s)) throw new ArgumentException($"unknown suite '{s}' ({string.Join(", ", knownSuites)})");
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine($"bench: {e.Message}");
    return 2;
}
static int ParseInt(string option, string value) =>
    int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"{option} needs an integer, got '{value}'");
// The load average goes into the JSON: on a shared machine it says how far the figures can be trusted.
static string? LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : null;
var loadBefore = LoadAverage();
if (o.ExactMemory && device == "cpu" && Timing.FixMmapThreshold() is { } memoryProblem) { Console.Error.WriteLine($"bench: --exact-memory: {memoryProblem}"); return 2; }
if (suites.Count == 0) suites = ["inference", "train", "data", "patch"];
if (threads is { } t) torch.set_num_threads(t);
if (device != "cpu" && !torch.cuda.is_available())
{
    Console.Error.WriteLine($"bench: --device {device}: CUDA is not available to this build (TorchSharp-cpu, or no GPU/driver; see README, DeltaTorch=cuda).");
    return 2;
}
var dev = device == "cpu" ? torch.CPU : new torch.Device(device);
// Same setting as the host on CUDA (and as the PyTorch reference's cudnn.benchmark = True).
if (dev.type == DeviceType.CUDA && Delta.Backbones.Runtime.CudnnAutotune.EnableForCuda() is { } cudnnProblem) Console.Error.WriteLine($"warning: {cudnnProblem}");
// On CUDA the step memory comes from the CUDA runtime, which needs libtorch's caching allocator off.
if (o.ExactMemory && dev.type == DeviceType.CUDA && Delta.Bench.CudaMemory.Open() is { } gpuMemoryProblem) { Console.Error.WriteLine($"bench: --exact-memory on CUDA: {gpuMemoryProblem}"); return 2; }
var bench = new Suites(o, dev);
var results = new List<BenchResult>();
foreach (var s in suites)
{
    IEnumerable<BenchResult> run = s switch
    {
        "inference" => bench.Inference(), "train" => bench.Train(), "data" => bench.Data(), "patch" => bench.Patches(),
        "precision" => bench.Precision(), "detection" => bench.Detection(), "segmentation" => bench.Segmentation(),
        "gradcheck" => bench.GradientCheck(), "syncs" => bench.HostSyncs(), "layers" => bench.Layers(),
        _ => throw new ArgumentException($"unknown suite '{s}' ({string.Join(", ", knownSuites)})"),
    };
    try
    {
        foreach (var r in run)
        {
            results.Add(r);
            Console.WriteLine($"{r.Suite,-10} {r.Name,-52} {r.Value.ToString(r.Unit == "rel" ? "E2" : Math.Abs(r.Value) < 10 ? "F4" : "F2", System.Globalization.CultureInfo.InvariantCulture),12} {r.Unit,-6} {string.Join(" ", r.Settings.Select(kv => $"{kv.Key}={kv.Value}"))}");
        }
    }
    catch (ArgumentException e)                     // a wrong --archs / --task-arch entry or size: the user's to fix
    {
        Console.Error.WriteLine($"bench: {s}: {e.Message}");
        return 2;
    }
}
var cpu = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':')[1].Trim() : null;
var report = new
{
    date = DateTimeOffset.UtcNow, machine = new { cpu, cores = Environment.ProcessorCount, os = RuntimeInformation.OSDescription, loadAverageBefore = loadBefore, loadAverageAfter = LoadAverage() },
    versions = new { dotnet = Environment.Version.ToString(), torchsharp = typeof(torch).Assembly.GetName().Version?.ToString(), libtorch = torch.__version__, onnxruntime = typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString() },
    device = dev.ToString(), threads = torch.get_num_threads(), cudnnBenchmark = Delta.Backbones.Runtime.CudnnAutotune.IsEnabled, settings = o, results,
};
if (json is not null) File.WriteAllText(json, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
// gradcheck is a check, not a figure: a failure is the exit status (bench/gpu-check.sh acts on it).
foreach (var failure in bench.GradientCheckFailures) Console.Error.WriteLine($"gradcheck FAILED: {failure}");
return bench.GradientCheckFailures.Count == 0 ? 0 : 3;
