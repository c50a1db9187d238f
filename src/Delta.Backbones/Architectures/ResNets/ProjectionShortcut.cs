using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ResNets;

/// <summary>torchvision's "downsample" projection: 1x1 conv (stride s) → BN, registered as "0" and "1" so the
/// state-dict keys are torchvision's (downsample.0.weight, downsample.1.running_mean, …). A module of its own
/// rather than a Sequential because it can fold its BN into the conv (<see cref="FoldBatchNorm"/>), and the
/// Δ-stage calls this module directly as its n_0 source (<see cref="BackboneStage.Shortcut"/>).</summary>
public sealed class ProjectionShortcut : nn.Module<Tensor, Tensor>
{
    // The conv and BN are registered by name only (no module-typed fields, which TorchSharp would register a second
    // time by reflection, as "conv"/"bn" beside "0"/"1").
    private readonly ConvBatchNorm unit;

    public ProjectionShortcut(long inChannels, long outChannels, long stride) : base(nameof(ProjectionShortcut))
    {
        var conv = nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false);
        var bn = nn.BatchNorm2d(outChannels);
        register_module("0", conv);
        register_module("1", bn);
        unit = new ConvBatchNorm(conv, bn);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return unit.Forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>Folds the BN into the conv (frozen copies only, see <see cref="BatchNormFolding"/>); the BN stays
    /// registered, so the state-dict keys do not change, but is no longer run.</summary>
    internal void FoldBatchNorm() => unit.Fold();
}
