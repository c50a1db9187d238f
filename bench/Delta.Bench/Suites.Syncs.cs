using Delta.Abstractions.Backbones;
using Delta.Abstractions.Training;
using TorchSharp;
using Delta.Backbones.Registry;
using Delta.Data.Datasets;
using Delta.Data.Loading;
using Delta.Host.Training;
using static TorchSharp.torch;

namespace Delta.Bench;

public sealed partial class Suites
{
    /// <summary>Marker lines on stderr around each probed window; <c>bench/gpu-check.sh</c> counts libtorch's
    /// "called a synchronizing CUDA operation" warnings between them.</summary>
    public const string SyncWindowBegin = "sync-window-begin", SyncWindowEnd = "sync-window-end";

    /// <summary>
    /// Not a timing: on CUDA, turns libtorch's sync debug mode to "warn" (<see cref="CudaSyncDebug"/>) around
    /// <see cref="BenchOptions.TrainSteps"/> training steps of the host's <see cref="Trainer"/> (after 2 warm-up steps)
    /// for each architecture, Δ(1) and Δ(4), and each precision, and around one epoch of 4 batches of the
    /// <see cref="BatchLoader"/> (in-memory images, flips, ImageNet preprocessing). Each window is framed by marker
    /// lines on stderr; the count of warnings inside is the number of times the host waited for the GPU. Expected: one
    /// per training window (the trainer reads the losses back once at the end of a Fit shorter than
    /// <see cref="Trainer.DeviceSyncInterval"/> steps), none for the loader.
    /// </summary>
    public IEnumerable<BenchResult> HostSyncs()
    {
        if (device.type != TorchSharp.DeviceType.CUDA)
        {
            yield return new("syncs", "host syncs probe", double.NaN, "", S(("skipped", "CUDA only")));
            yield break;
        }
        if (CudaSyncDebug.TrySet(CudaSyncDebug.Disabled) is { } problem)
        {
            yield return new("syncs", "host syncs probe", double.NaN, "", S(("skipped", problem)));
            yield break;
        }
        using var registry = BackboneRegistry.CreateDefault();
        foreach (var spec in o.TrainArchitectures)
        {
            var (arch, weights) = ArchAndWeights(spec);
            foreach (var stages in new[] { 1, 4 })
            foreach (var precision in o.Precisions)
            {
                using var backbone = registry.Create(precision.Apply(new BackboneRequest
                {
                    Architecture = arch, Weights = weights, Delta = new DeltaConfig { Stages = stages }, Device = device,
                }));
                backbone.ReturnStages = [];
                using var head = nn.Linear(backbone.NumFeatures, 10); head.to(device);
                manual_seed(0);
                using var x = randn(o.TrainBatch, 3, o.TrainSize, o.TrainSize).to(device);
                using var y = randint(0, 10, [o.TrainBatch], dtype: ScalarType.Int64).to(device);
                var parameters = backbone.TrainableParameters.Concat(head.parameters()).ToList();
                TrainLoop<Step> Loop(int steps) => SameBatchLoop(parameters, o.TrainBatch,
                    () => new Dictionary<string, Tensor> { ["ce"] = nn.functional.cross_entropy(head.call(backbone.Forward(x).Pooled), y) },
                    m => { backbone.Train(m); head.train(m); }, steps);
                var trainer = new Trainer();
                trainer.Fit(Loop(2), CancellationToken.None);                                  // warm-up (cuDNN autotuning)
                var label = $"{arch} Δ({stages}){precision.Suffix} train, {o.TrainSteps} steps";
                SyncWindow(label, () => trainer.Fit(Loop(o.TrainSteps), CancellationToken.None));
                yield return new("syncs", label, o.TrainSteps, "steps", S(("arch", arch), ("batch", o.TrainBatch), ("size", o.TrainSize),
                    ("precision", precision.Label), ("count", "bench/gpu-check.sh: warnings between the markers on stderr")));
            }
        }
        const int batches = 4, batch = 8, side = 64;
        using var images = rand([batches * batch, 3, side, side]);
        using var data = new TensorImageDataset("random", images, Enumerable.Range(0, batches * batch).Select(i => i % 10).ToArray(),
            Enumerable.Range(0, 10).Select(i => $"class {i}").ToList());
        var loader = new BatchLoader(data, Enumerable.Range(0, batches * batch).ToList(), batch, side, ImageNetPreprocessing.Instance, device)
        {
            Shuffle = true, HorizontalFlip = true,
        };
        foreach (var warmUp in loader.Epoch(0)) warmUp.Dispose();
        var loaderLabel = $"loader, {batches} batches of {batch}";
        SyncWindow(loaderLabel, () => { foreach (var b in loader.Epoch(1)) b.Dispose(); });
        yield return new("syncs", loaderLabel, batches, "batches", S(("batch", batch), ("size", side), ("count", "bench/gpu-check.sh: warnings between the markers on stderr")));
    }

    /// <summary>Runs <paramref name="body"/> with the sync debug mode on "warn", framed by marker lines on stderr.</summary>
    private static void SyncWindow(string label, Action body)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"{SyncWindowBegin} {label}");
        CudaSyncDebug.TrySet(CudaSyncDebug.Warn);
        try { body(); }
        finally
        {
            CudaSyncDebug.TrySet(CudaSyncDebug.Disabled);
            Console.Error.WriteLine($"{SyncWindowEnd} {label}");
        }
    }
}
