using Delta.Abstractions.Backbones;
using Delta.Backbones.Architectures;
using Delta.Backbones.Catalog;
using Delta.Backbones.Precision;
using static TorchSharp.torch;

namespace Delta.Backbones.Registry;

/// <summary>A loaded, frozen base held by the registry: one per (architecture, weights, output stride,
/// device). Always in eval mode, every parameter requires_grad = false, never a child of a task module.
/// Its bf16 fast-mode copies (one per layout) are built on first request and shared like the base.</summary>
public sealed class SharedBase : IDisposable
{
    private readonly Dictionary<bool, StagedBackbone> fastCopies = new();
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

    /// <summary>The bf16 copy of <see cref="Model"/> (channels-last convolution weights when asked), cast once.</summary>
    public StagedBackbone FastCopy(bool channelsLast)
    {
        lock (fastCopies)
        {
            if (fastCopies.TryGetValue(channelsLast, out var copy)) return copy;
            copy = FastBaseCopy.Build(Model, () => BackboneCatalog.Get(Info.Name).Build(OutputStride), channelsLast, device);
            fastCopies[channelsLast] = copy;
            return copy;
        }
    }

    public void Dispose()
    {
        lock (fastCopies)
        {
            foreach (var copy in fastCopies.Values) copy.Dispose();
            fastCopies.Clear();
        }
        Model.Dispose();
    }
}
