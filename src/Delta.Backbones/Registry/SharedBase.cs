using Delta.Abstractions.Backbones;
using Delta.Backbones.Architectures;

namespace Delta.Backbones.Registry;

/// <summary>A loaded, frozen base held by the registry: one per (architecture, weights, output stride,
/// device). Always in eval mode, every parameter requires_grad = false, never a child of a task module.</summary>
public sealed class SharedBase
{
    internal SharedBase(StagedBackbone model, BackboneInfo info, BaseIdentity identity, IInputPreprocessing preprocessing, int outputStride)
    {
        Model = model;
        Info = info;
        Identity = identity;
        Preprocessing = preprocessing;
        OutputStride = outputStride;
        ParameterCount = model.parameters().Sum(p => p.numel());
    }

    public StagedBackbone Model { get; }
    public BackboneInfo Info { get; }
    public BaseIdentity Identity { get; }
    public IInputPreprocessing Preprocessing { get; }
    public int OutputStride { get; }
    public long ParameterCount { get; }
}
