using Delta.Abstractions.Backbones;
using Delta.Abstractions.Training;
using Delta.Backbones.Architectures;
using Delta.Backbones.Catalog;
using Delta.Backbones.Precision;
using static TorchSharp.torch;

namespace Delta.Backbones.Registry;

/// <summary>A loaded, frozen base held by the registry: one per (architecture, weights, output stride,
/// device). Always in eval mode, every parameter requires_grad = false, never a child of a task module.
/// Its derived copies (bf16 fast mode, channels-last, folded BatchNorms; one per <see cref="FrozenCopyKind"/>) are
/// built on first request and shared like the base.
/// <para>Ownership: reference-counted. The registry's cache holds one reference while the base is cached, and every
/// <see cref="BaseLease"/> holds one (a <see cref="DeltaBackbone"/> whose frozen part runs on this base owns one,
/// as does code that reads <see cref="Model"/> for longer than a call, via
/// <see cref="BackboneRegistry.AcquireBase"/>). When the registry evicts the base (its weights file was rewritten) it
/// drops the cache's reference; the last reference to go frees the model and its copies, so a base is never freed
/// under a task that runs on it. The registry's own Dispose frees every base it loaded at once, leased or not.</para></summary>
public sealed class SharedBase
{
    private readonly Dictionary<FrozenCopyKind, StagedBackbone> derivedCopies = new();
    private readonly Device device;
    private readonly Action<SharedBase> freed;
    private readonly object count = new();
    private int references;
    private bool isFreed;

    internal SharedBase(StagedBackbone model, BackboneInfo info, BaseIdentity identity, IInputPreprocessing preprocessing, int outputStride, Device device,
        Action<SharedBase> freed)
    {
        Model = model;
        Info = info;
        Identity = identity;
        Preprocessing = preprocessing;
        OutputStride = outputStride;
        ParameterCount = model.parameters().Sum(p => p.numel());
        this.device = device;
        this.freed = freed;
    }

    public StagedBackbone Model { get; }
    public BackboneInfo Info { get; }
    public BaseIdentity Identity { get; }
    public IInputPreprocessing Preprocessing { get; }
    public int OutputStride { get; }
    public long ParameterCount { get; }

    /// <summary>True once the model and its copies have been freed (last reference gone, or the registry disposed).</summary>
    public bool IsFreed { get { lock (count) return isFreed; } }

    /// <summary>The copy of <see cref="Model"/> of this kind, built once (<see cref="FrozenBaseCopy"/>); the exact
    /// kind is <see cref="Model"/> itself.</summary>
    public StagedBackbone Copy(FrozenCopyKind kind)
    {
        if (kind.IsExact) return Model;
        // The default generator's lock before this one, the order every caller takes them in (see DefaultGenerator).
        using (DefaultGenerator.Held())
        lock (derivedCopies)
        {
            ObjectDisposedException.ThrowIf(IsFreed, this);
            if (derivedCopies.TryGetValue(kind, out var copy)) return copy;
            copy = FrozenBaseCopy.Build(Model, () => DefaultGenerator.LeftAlone(() => BackboneCatalog.Get(Info.Name).Build(OutputStride)), kind, device);
            derivedCopies[kind] = copy;
            return copy;
        }
    }

    /// <summary>One more reference; false when the base is already freed (then nothing was taken).</summary>
    internal bool TryAcquire()
    {
        lock (count)
        {
            if (isFreed) return false;
            references++;
            return true;
        }
    }

    /// <summary>A lease on one more reference; null when the base is already freed.</summary>
    internal BaseLease? TryLease() => TryAcquire() ? new BaseLease(this) : null;

    /// <summary>Gives back one reference taken by <see cref="TryAcquire"/>; the last one frees the base.</summary>
    internal void Release()
    {
        lock (count)
        {
            if (references == 0) throw new InvalidOperationException($"A reference to the base of {Identity.Architecture} was released twice.");
            if (--references > 0) return;
            // Marked freed under the same lock that counted the last reference down: a TryAcquire racing with this
            // release (a request that looked the base up just before the registry evicted it) sees the base freed and
            // looks again, instead of leasing a model about to be disposed.
            isFreed = true;
        }
        DisposeModels();
    }

    /// <summary>Frees the model and its copies now, whatever references remain (the registry's Dispose); idempotent.</summary>
    internal void Free()
    {
        lock (count)
        {
            if (isFreed) return;
            isFreed = true;
        }
        DisposeModels();
    }

    /// <summary>Runs once, after <see cref="isFreed"/> was set under the count's lock by whoever freed the base.</summary>
    private void DisposeModels()
    {
        lock (derivedCopies)
        {
            foreach (var copy in derivedCopies.Values) copy.Dispose();
            derivedCopies.Clear();
        }
        Model.Dispose();
        freed(this);
    }
}
