using Delta.Abstractions.Backbones;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures;

/// <summary>
/// A classification trunk without its head, seen as stem → four stages (C2..C5). This is the surface the
/// Δ-Network wrapper needs: it runs the stem and the stages itself so it can put the gated skip connections
/// between the sub-blocks of the last stages. <see cref="forward"/> returns the last stage output (the input
/// to the global average pool) and is what "the plain base model" means in the bit-identity tests.
/// </summary>
public abstract class StagedBackbone : nn.Module<Tensor, Tensor>
{
    protected StagedBackbone(string name) : base(name) { }

    /// <summary>Stages C2..C5 in order.</summary>
    public abstract IReadOnlyList<BackboneStage> Stages { get; }

    /// <summary>Channels and stride of each stage output, dilation included.</summary>
    public IReadOnlyList<FeatureInfo> FeatureInfo => Stages.Select(s => new FeatureInfo(s.Name, s.OutputChannels, s.Stride)).ToList();

    /// <summary>Channels of the pooled feature vector.</summary>
    public virtual int NumFeatures => Stages[^1].OutputChannels;

    /// <summary>Input [N, 3, H, W] ↦ stem output (the input of the first stage).</summary>
    public abstract Tensor ForwardStem(Tensor x);

    /// <summary>Last stage output [N, C, H, W] ↦ pooled features [N, C]. Global average pooling for
    /// ResNets; ConvNeXt adds its pretrained pre-classifier LayerNorm.</summary>
    public virtual Tensor Pool(Tensor lastStage) => nn.functional.adaptive_avg_pool2d(lastStage, 1).flatten(1);

    /// <summary>Re-initialises every parameter and buffer from <paramref name="generator"/> only, the way the
    /// reference implementation initialises the architecture, so "random" weights are reproducible across
    /// processes whatever the global RNG state.</summary>
    public abstract void ResetParameters(Generator generator);

    /// <summary>Folds each BatchNorm into the convolution before it (<see cref="BatchNormFolding"/>) and returns how
    /// many were folded; architectures without BatchNorm (ConvNeXt: LayerNorm, which cannot be folded) return 0.
    /// Irreversible and only for frozen derived copies of a base, never for the exact base itself.</summary>
    public virtual int FoldBatchNorms() => 0;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = ForwardStem(x);
        foreach (var stage in Stages) h = stage.ForwardPlain(h);
        return h.MoveToOuterDisposeScope();
    }
}
