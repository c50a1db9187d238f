using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ResNets;

/// <summary>torchvision's "downsample" projection: 1x1 conv (stride s) → BN, registered as "0" and "1" so the
/// state-dict keys are torchvision's (downsample.0.weight, downsample.1.running_mean, …). A module of its own
/// rather than a Sequential because it can fold its BN into the conv (<see cref="FoldBatchNorm"/>), and the
/// Δ-stage calls this module directly as its n_0 source (<see cref="BackboneStage.Shortcut"/>).</summary>
public sealed class ProjectionShortcut : nn.Module<Tensor, Tensor>
{
    // One tuple field, not two module fields: TorchSharp registers module-typed fields by reflection, which would
    // list the conv and BN a second time (as "conv"/"bn" beside "0"/"1") in named_modules.
    private readonly (Conv2d Conv, BatchNorm2d Bn) parts;
    private bool batchNormFolded;

    public ProjectionShortcut(long inChannels, long outChannels, long stride) : base(nameof(ProjectionShortcut))
    {
        parts = (nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
        register_module("0", parts.Conv);
        register_module("1", parts.Bn);
    }

    public override Tensor forward(Tensor x)
    {
        if (batchNormFolded) return parts.Conv.call(x);
        using var scope = NewDisposeScope();
        return parts.Bn.call(parts.Conv.call(x)).MoveToOuterDisposeScope();
    }

    /// <summary>Folds the BN into the conv (frozen copies only, see <see cref="BatchNormFolding"/>); the BN stays
    /// registered, so the state-dict keys do not change, but is no longer run.</summary>
    internal void FoldBatchNorm()
    {
        if (batchNormFolded) return;
        BatchNormFolding.FoldInto(parts.Conv, parts.Bn);
        batchNormFolded = true;
    }
}
