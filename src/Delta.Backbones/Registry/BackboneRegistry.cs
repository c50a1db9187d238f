using TorchSharp;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Training;
using Delta.Backbones.Architectures;
using Delta.Backbones.Catalog;
using Delta.Backbones.Delta;
using Delta.Backbones.Precision;
using Delta.Backbones.Weights;
using static TorchSharp.torch;

namespace Delta.Backbones.Registry;

/// <summary>
/// The front door to backbones. Holds ONE frozen base per (architecture, weights, output stride, device) and
/// wraps it, per <see cref="Create"/> call, in a new <see cref="DeltaBackbone"/> with fresh Δ-modules: memory
/// grows by the Δ-modules per task, not by a model copy. Weights are loaded by the first
/// <see cref="IBaseWeightsSource"/> that accepts the name. Thread-safe.
/// </summary>
public sealed class BackboneRegistry : IBackboneRegistry, IDisposable
{
    private readonly IReadOnlyList<IBaseWeightsSource> weightSources;
    private readonly Dictionary<BaseKey, SharedBase> bases = new();
    private readonly Dictionary<string, long> baseParameterCounts = new(StringComparer.OrdinalIgnoreCase);
    private readonly object gate = new();

    private sealed record BaseKey(string Architecture, string Weights, int OutputStride, string Device);

    public BackboneRegistry(IEnumerable<IBaseWeightsSource> weightSources)
    {
        this.weightSources = weightSources.ToList();
        if (this.weightSources.Count == 0) throw new ArgumentException("A registry needs at least one weights source.", nameof(weightSources));
    }

    /// <summary>The registry with every weights source this build knows.</summary>
    public static BackboneRegistry CreateDefault() => new(DefaultWeightsSources());

    /// <summary>THE list of weights sources, in the order they are asked. Add new sources here.</summary>
    public static IReadOnlyList<IBaseWeightsSource> DefaultWeightsSources() => new IBaseWeightsSource[]
    {
        new RandomInitWeights(),
        new Weights.Cntk.ImagenetOnnxWeights(),
        new Weights.StateDictFileWeights(),
    };

    public IReadOnlyList<BackboneInfo> Architectures => BackboneCatalog.All.Select(e => e.Info).ToList();

    /// <summary>Number of shared bases currently held (for tests and diagnostics).</summary>
    public int SharedBaseCount { get { lock (gate) return bases.Count; } }

    public IDeltaBackbone Create(BackboneRequest request) => CreateDelta(request);

    /// <summary><see cref="Create"/> with the concrete type.</summary>
    public DeltaBackbone CreateDelta(BackboneRequest request)
    {
        var problems = request.Delta.Validate().Concat(request.ValidatePrecision()).ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems));
        var shared = GetBase(request);

        StagedBackbone baseModel = shared.Model;
        if (request.TrainableBase) baseModel = TrainableCopy(shared, request);

        var deltaStages = DefaultGenerator.LeftAlone(() => DeltaStageFactory.Build(baseModel, request.Delta));
        using (var generator = new Generator(unchecked((ulong)request.Seed)))
            foreach (var stage in deltaStages) stage.ResetParameters(generator);
        if (request.DeltaConvolutions == BackbonePrecision.BFloat16)
            foreach (var gates in deltaStages.Select(s => s.Gates).OfType<DeltaGates>()) gates.ConvolutionDType = FrozenBaseCopy.FastDType;
        if (request.DeltaSkipSums == BackbonePrecision.BFloat16)
            foreach (var stage in deltaStages) stage.SkipSumDType = FrozenBaseCopy.FastDType;
        var module = new DeltaTaskModule(deltaStages, request.TrainableBase ? baseModel : null);
        try
        {
            module.to(request.Device);
            module.train(false);
            var kind = FrozenCopyKind.Of(request);
            var copy = kind.IsExact ? null : shared.Copy(kind);
            return new DeltaBackbone(shared, baseModel, baseFrozen: !request.TrainableBase, module, request.Delta, request.Device, copy, kind,
                [.. RandomGateDraws(deltaStages, request), .. DropPathDraws(request.TrainableBase ? baseModel : null, request)]);
        }
        catch { module.Dispose(); throw; }                 // the Δ-stages and a trainable copy, never the shared base
    }

    /// <summary>One generator on the request's device for the random-gates stages (none for other variants), seeded
    /// from the request's seed but apart from the init generator's stream (another seed: SplitMix64's increment).</summary>
    private static IReadOnlyList<Generator> RandomGateDraws(IReadOnlyList<DeltaStage> stages, BackboneRequest request)
    {
        var random = stages.Select(s => s.Gates).OfType<RandomGates>().ToList();
        if (random.Count == 0) return [];
        var draws = new Generator(unchecked((ulong)request.Seed + 0x9E3779B97F4A7C15UL), request.Device);
        foreach (var gates in random) gates.Draws = draws;
        return [draws];
    }

    /// <summary>One generator on the request's device for a trainable copy's drop-path layers (ConvNeXt; none where
    /// there are none), on a stream of its own: a frozen base never trains, so only a trainable copy draws.</summary>
    private static IReadOnlyList<Generator> DropPathDraws(StagedBackbone? trainable, BackboneRequest request)
    {
        var layers = trainable?.modules().OfType<Architectures.ConvNeXts.StochasticDepth>().Where(d => d.Probability > 0).ToList() ?? [];
        if (layers.Count == 0) return [];
        var draws = new Generator(unchecked((ulong)request.Seed + 2 * 0x9E3779B97F4A7C15UL), request.Device);
        foreach (var layer in layers) layer.Draws = draws;
        return [draws];
    }

    public BaseIdentity Resolve(BackboneRequest request) => GetBase(request).Identity;

    /// <summary>The shared frozen base for <paramref name="request"/>, loading it on first use.</summary>
    public SharedBase GetBase(BackboneRequest request)
    {
        var entry = BackboneCatalog.Get(request.Architecture);
        var key = new BaseKey(entry.Info.Name, WeightsKey(request.Weights), request.OutputStride, DeviceKey(request.Device));
        // The default generator's lock first, then the registry's (the order every caller takes them in: a plugin
        // builds its backbone and heads under DefaultGenerator.Seeded), because a first load builds the architecture.
        using (DefaultGenerator.Held())
        lock (gate)
        {
            if (bases.TryGetValue(key, out var cached)) return cached;
            var shared = LoadBase(entry, request.Weights, request.OutputStride, request.Device);
            bases[key] = shared;
            return shared;
        }
    }

    /// <summary>What identifies the weights a request names, for the cache of shared bases: a weights file by its full
    /// path, length and modification time (a long-running host that is handed a rewritten file at the same path loads
    /// the new weights instead of serving the old ones), a named source ("random", "imagenet") case-insensitively, as
    /// the sources match names.</summary>
    private static string WeightsKey(string weights)
    {
        if (StateDictFile.IsSupported(weights) && File.Exists(weights))
        {
            var file = new FileInfo(Path.GetFullPath(weights));
            return $"file:{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}";
        }
        return weights.ToLowerInvariant();
    }

    /// <summary>"cuda" is the current CUDA device, index 0 unless a process changes it: one base for "cuda" and "cuda:0".</summary>
    private static string DeviceKey(Device device) =>
        $"{device.type}:{(device.type == DeviceType.CUDA && device.index < 0 ? 0 : device.index)}";

    public (long BaseParameters, long DeltaParameters) CountParameters(string architecture, DeltaConfig delta)
    {
        var entry = BackboneCatalog.Get(architecture);
        // Only shapes matter here; built on the CPU, leaving the default generator alone.
        using var model = DefaultGenerator.LeftAlone(() => entry.Build(32));
        long baseCount;
        lock (gate)
        {
            if (!baseParameterCounts.TryGetValue(entry.Info.Name, out baseCount))
                baseParameterCounts[entry.Info.Name] = baseCount = model.parameters().Sum(p => p.numel());
        }
        var stages = DefaultGenerator.LeftAlone(() => DeltaStageFactory.Build(model, delta));
        var deltaCount = stages.Sum(s => s.parameters().Sum(p => p.numel()));
        foreach (var s in stages) s.Dispose();
        return (baseCount, deltaCount);
    }

    private SharedBase LoadBase(CatalogEntry entry, string weights, int outputStride, Device device)
    {
        var source = weightSources.FirstOrDefault(s => s.CanLoad(weights, entry.Info))
            ?? throw new ArgumentException(
                $"Unknown weights '{weights}' for '{entry.Info.Name}'. Valid: {string.Join("; ", weightSources.Select(s => s.Description))}" +
                (entry.Info.PretrainedWeights.Count > 0 ? $"; pretrained for this architecture: {string.Join(", ", entry.Info.PretrainedWeights)}." : "."));
        var model = DefaultGenerator.LeftAlone(() => entry.Build(outputStride));
        try
        {
            var preprocessing = source.Load(model, weights, entry.Info);
            foreach (var p in model.parameters()) p.requires_grad = false;
            model.eval();
            var identity = new BaseIdentity(entry.Info.Name, weights, BaseWeightsHash.Compute(model));
            model.to(device);
            return new SharedBase(model, entry.Info, identity, preprocessing, outputStride, device);
        }
        catch { model.Dispose(); throw; }                  // a bad weights file must not leave a whole model behind
    }

    /// <summary>A private, trainable copy of the shared base (full fine-tuning baselines): same architecture and
    /// output stride, weights copied from the shared base, registered in the task module so it trains.</summary>
    private static StagedBackbone TrainableCopy(SharedBase shared, BackboneRequest request)
    {
        var copy = DefaultGenerator.LeftAlone(() => BackboneCatalog.Get(shared.Info.Name).Build(shared.OutputStride));
        using (no_grad())
        {
            var source = shared.Model.state_dict();
            foreach (var (key, target) in copy.state_dict()) target.copy_(source[key]);
        }
        foreach (var p in copy.parameters()) p.requires_grad = true;
        return copy;
    }

    /// <summary>Frees the shared bases. Backbones created by this registry must not be used afterwards.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            foreach (var b in bases.Values) b.Dispose();
            bases.Clear();
        }
    }
}
