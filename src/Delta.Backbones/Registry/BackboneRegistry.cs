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
/// <para>Ownership (see <see cref="SharedBase"/>): the cache holds one reference to each base it holds, each frozen-base
/// <see cref="DeltaBackbone"/> and each <see cref="BaseLease"/> one more. A request for a weights file whose length
/// or modification time changed evicts the bases loaded from that path's older content: no new request gets them, and
/// each is freed when its last lease ends (at once if none is left).</para>
/// </summary>
public sealed class BackboneRegistry : IBackboneRegistry, IDisposable
{
    private readonly IReadOnlyList<IBaseWeightsSource> weightSources;
    /// <summary>Per key, the one load of its base: completed (the cached base) or in flight (requests wait for it).</summary>
    private readonly Dictionary<BaseKey, TaskCompletionSource<SharedBase>> slots = new();
    /// <summary>Every base loaded and not yet freed: the cached ones and evicted ones still leased.</summary>
    private readonly HashSet<SharedBase> live = new();
    private readonly Dictionary<string, long> baseParameterCounts = new(StringComparer.OrdinalIgnoreCase);
    private readonly object gate = new();

    /// <param name="File">A weights file's full path (its content stamp is in <paramref name="Weights"/>); null for a
    /// named source.</param>
    private sealed record BaseKey(string Architecture, string Weights, string? File, int OutputStride, string Device);

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

    /// <summary>Number of shared bases alive (for tests and diagnostics): the cached ones and evicted ones still leased.</summary>
    public int SharedBaseCount { get { lock (gate) return live.Count; } }

    private int loadWaiters;
    /// <summary>Requests waiting now for another request's load of their base (for tests: an interleaving is set up
    /// when they are waiting there, not merely blocked somewhere).</summary>
    internal int LoadWaiters => Volatile.Read(ref loadWaiters);

    public IDeltaBackbone Create(BackboneRequest request) => CreateDelta(request);

    /// <summary><see cref="Create"/> with the concrete type.</summary>
    public DeltaBackbone CreateDelta(BackboneRequest request)
    {
        var problems = request.Delta.Validate().Concat(request.ValidatePrecision()).ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems));
        var lease = AcquireBase(request);
        var leaseKept = false;
        try
        {
            var shared = lease.Base;
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
            var generators = new List<Generator>();
            try
            {
                module.to(request.Device);
                module.train(false);
                var kind = FrozenCopyKind.Of(request);
                var copy = kind.IsExact ? null : shared.Copy(kind);
                generators.AddRange(RandomGateDraws(deltaStages, request));
                generators.AddRange(DropPathDraws(request.TrainableBase ? baseModel : null, request));
                // A frozen-base backbone runs on the shared base (and its copy) and keeps the lease until disposed; a
                // trainable copy has what it needs from the base once copied, so it does not pin the base.
                var backbone = new DeltaBackbone(shared, request.TrainableBase ? null : lease, baseModel, baseFrozen: !request.TrainableBase, module,
                    request.Delta, request.Device, copy, kind, generators);
                leaseKept = !request.TrainableBase;
                return backbone;
            }
            catch
            {
                module.Dispose();                              // the Δ-stages and a trainable copy, never the shared base
                foreach (var g in generators) g.Dispose();
                throw;
            }
        }
        finally { if (!leaseKept) lease.Dispose(); }
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

    public BaseIdentity Resolve(BackboneRequest request)
    {
        using var lease = AcquireBase(request);
        return lease.Base.Identity;
    }

    /// <summary>The shared frozen base for <paramref name="request"/>, borrowed: valid while the registry caches it,
    /// that is until a rewrite of its weights file evicts it (and its last lease ends) or the registry is disposed. For
    /// tests and short reads; code that runs on the base holds <see cref="AcquireBase"/>'s lease instead.</summary>
    public SharedBase GetBase(BackboneRequest request)
    {
        using var lease = AcquireBase(request);
        return lease.Base;
    }

    /// <summary>
    /// A lease on the shared frozen base for <paramref name="request"/>, loading it on first use; dispose it when done
    /// with the base. Requests for a key whose load is in flight wait for that one load, and get its exception if it fails
    /// (the failed entry is dropped, so the next request loads again).
    /// <para>Locks: a load holds the default generator's lock (<see cref="DefaultGenerator"/>) only while it builds the
    /// architecture, whose module init draws from that generator, and the registry's only to read or change its
    /// dictionaries; the weights are read, hashed and moved to the device under neither, so other jobs seed and
    /// checkpoint meanwhile. A waiter may hold the generator's lock (a plugin builds under DefaultGenerator.Seeded) and
    /// still cannot deadlock: a loader registers its entry while holding that lock (a Monitor, re-entrant) and lets it go
    /// once built, so an entry in flight that another holder of the lock can see belongs to a loader that needs no lock
    /// to finish. (A loader whose own caller holds the lock keeps it to the end; then no other thread holds it meanwhile.)</para>
    /// </summary>
    public BaseLease AcquireBase(BackboneRequest request)
    {
        var entry = BackboneCatalog.Get(request.Architecture);
        while (true)
        {
            // On every pass: a weights file rewritten while this request waited is loaded anew, not served stale.
            var key = KeyOf(entry, request);
            TaskCompletionSource<SharedBase>? slot;
            List<SharedBase> evicted;
            lock (gate)
            {
                evicted = EvictStale(key);
                slots.TryGetValue(key, out slot);
            }
            foreach (var stale in evicted) stale.Release();       // the cache's reference; the last lease frees it
            if (slot is null)
            {
                var loaded = Load(entry, request, key);
                if (loaded is not null) return loaded;
                continue;                                          // another request registered the key first
            }
            if (!slot.Task.IsCompletedSuccessfully)
            {
                Interlocked.Increment(ref loadWaiters);
                try { slot.Task.GetAwaiter().GetResult(); }       // the one load of this key; rethrows its failure
                finally { Interlocked.Decrement(ref loadWaiters); }
                continue;                                          // then take the reference as any request does
            }
            var lease = slot.Task.Result.TryLease();
            if (lease is not null) return lease;
            // Freed since the lookup (evicted and its last lease gone, or the registry disposed): look again.
        }
    }

    /// <summary>Takes out of the cache every base loaded from <paramref name="key"/>'s weights file as it was before (another
    /// length or modification time), done or in flight, and returns the done ones, whose cache reference the caller
    /// gives back. A load in flight that was taken out hands its base to its own caller only.</summary>
    private List<SharedBase> EvictStale(BaseKey key)
    {
        var evicted = new List<SharedBase>();
        if (key.File is null) return evicted;
        foreach (var stale in slots.Keys.Where(k => k.File == key.File && k.Weights != key.Weights).ToList())
        {
            if (slots[stale].Task.IsCompletedSuccessfully) evicted.Add(slots[stale].Task.Result);
            slots.Remove(stale);
        }
        return evicted;
    }

    /// <summary>Loads the base for <paramref name="key"/> as that key's one loader and returns a lease on it; null when
    /// another request registered the key first.</summary>
    private BaseLease? Load(CatalogEntry entry, BackboneRequest request, BaseKey key)
    {
        var source = SourceFor(entry, request.Weights);
        var slot = new TaskCompletionSource<SharedBase>(TaskCreationOptions.RunContinuationsAsynchronously);
        StagedBackbone model;
        // The generator's lock, then the registry's: the order every caller takes them in. The entry is registered
        // under the generator's lock and that lock is let go right after the build (see AcquireBase).
        using (DefaultGenerator.Held())
        {
            lock (gate)
            {
                if (slots.ContainsKey(key)) return null;
                slots[key] = slot;
            }
            try { model = DefaultGenerator.LeftAlone(() => entry.Build(request.OutputStride)); }
            catch (Exception e) { Fail(key, slot, e); throw; }
        }
        SharedBase shared;
        try { shared = Fill(model, source, entry, request); }
        catch (Exception e)
        {
            model.Dispose();                               // a bad weights file must not leave a whole model behind
            Fail(key, slot, e);
            throw;
        }
        BaseLease lease;
        lock (gate)
        {
            live.Add(shared);
            // Not cached when taken out while loading (its file rewritten again, or the registry disposed): then the
            // caller's lease is its only reference.
            if (slots.TryGetValue(key, out var current) && current == slot) shared.TryAcquire();
            lease = shared.TryLease()!;                    // a new base is not freed: nothing released it yet
        }
        slot.SetResult(shared);
        return lease;
    }

    /// <summary>The slow part of a load, under no lock: weights, freezing, hash, device.</summary>
    private SharedBase Fill(StagedBackbone model, IBaseWeightsSource source, CatalogEntry entry, BackboneRequest request)
    {
        var preprocessing = source.Load(model, request.Weights, entry.Info);
        foreach (var p in model.parameters()) p.requires_grad = false;
        model.eval();
        var identity = new BaseIdentity(entry.Info.Name, request.Weights, BaseWeightsHash.Compute(model));
        model.to(request.Device);
        return new SharedBase(model, entry.Info, identity, preprocessing, request.OutputStride, request.Device, Forget);
    }

    /// <summary>Drops a failed load's entry, so the next request loads again, and hands the failure to its waiters.</summary>
    private void Fail(BaseKey key, TaskCompletionSource<SharedBase> slot, Exception error)
    {
        lock (gate)
            if (slots.TryGetValue(key, out var current) && current == slot) slots.Remove(key);
        slot.SetException(error);
        _ = slot.Task.Exception;                           // observed: a failure nobody waited for is not an unobserved-task event
    }

    private void Forget(SharedBase freed)
    {
        lock (gate) live.Remove(freed);
    }

    private IBaseWeightsSource SourceFor(CatalogEntry entry, string weights) =>
        weightSources.FirstOrDefault(s => s.CanLoad(weights, entry.Info))
        ?? throw new ArgumentException(
            $"Unknown weights '{weights}' for '{entry.Info.Name}'. Valid: {string.Join("; ", weightSources.Select(s => s.Description))}" +
            (entry.Info.PretrainedWeights.Count > 0 ? $"; pretrained for this architecture: {string.Join(", ", entry.Info.PretrainedWeights)}." : "."));

    private static BaseKey KeyOf(CatalogEntry entry, BackboneRequest request)
    {
        var (weights, file) = WeightsKey(request.Weights);
        return new BaseKey(entry.Info.Name, weights, file, request.OutputStride, DeviceKey(request.Device));
    }

    /// <summary>What identifies the weights a request names, for the cache of shared bases: a weights file by its full
    /// path, length and modification time (a long-running host that is handed a rewritten file at the same path loads
    /// the new weights instead of serving the old ones), a named source ("random", "imagenet") case-insensitively, as
    /// the sources match names.</summary>
    private static (string Weights, string? File) WeightsKey(string weights)
    {
        if (StateDictFile.IsSupported(weights) && File.Exists(weights))
        {
            var file = new FileInfo(Path.GetFullPath(weights));
            return ($"file:{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}", file.FullName);
        }
        return (weights.ToLowerInvariant(), null);
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

    /// <summary>Frees every base this registry loaded, leased or not: backbones and leases from it must not be used
    /// afterwards. The registry itself stays usable and loads anew.</summary>
    public void Dispose()
    {
        List<SharedBase> all;
        lock (gate)
        {
            all = [.. live];
            live.Clear();
            slots.Clear();                                 // loads in flight finish for their own callers only
        }
        foreach (var b in all) b.Free();
    }
}
