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
/// built on first request and shared like the base.</summary>
public sealed class SharedBase : IDisposable
{
    private readonly Dictionary<FrozenCopyKind, StagedBackbone> derivedCopies = new();
    private readonly Device device;

    internal SharedBase(StagedBackbone model, BackboneInfo info, BaseIdentity identity, IInputPreprocessing preprocessing, int outputStride, Device device)
    {
        Model = model;
        Info = info;
        Identity = identity;
        Preprocessing = preprocessing;
        OutputStride = outputStride;
        ParameterCount = model.parameters().Sum(p => p.numel());
        this.device = device;
    }

    public StagedBackbone Model { get; }
    public BackboneInfo Info { get; }
    public BaseIdentity Identity { get; }
    public IInputPreprocessing Preprocessing { get; }
    public int OutputStride { get; }
    public long ParameterCount { get; }

    /// <summary>The copy of <see cref="Model"/> of this kind, built once (<see cref="FrozenBaseCopy"/>); the exact
    /// kind is <see cref="Model"/> itself.</summary>
    public StagedBackbone Copy(FrozenCopyKind kind)
    {
        if (kind.IsExact) return Model;
        // The default generator's lock before this one, the order every caller takes them in (see DefaultGenerator).
        using (DefaultGenerator.Held())
        lock (derivedCopies)
        {
            if (derivedCopies.TryGetValue(kind, out var copy)) return copy;
            copy = FrozenBaseCopy.Build(Model, () => DefaultGenerator.LeftAlone(() => BackboneCatalog.Get(Info.Name).Build(OutputStride)), kind, device);
            derivedCopies[kind] = copy;
            return copy;
        }
    }

    public void Dispose()
    {
        lock (derivedCopies)
        {
            foreach (var copy in derivedCopies.Values) copy.Dispose();
            derivedCopies.Clear();
        }
        Model.Dispose();
    }
}
