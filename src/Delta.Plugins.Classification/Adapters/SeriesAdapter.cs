using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Adapters;

/// <summary>
/// Rebuffi et al. 2017's residual adapter, placed on the output y [N, C, H, W] of a 3x3 conv (before that conv's
/// own BN): y ↦ y + conv1x1(BN_a(y)). The 1x1 conv starts at zero, so at initialisation the adapter adds exact
/// zeros and the adapted network computes the base network bit for bit; its gradient is not zero
/// (∂L/∂W = ∂L/∂out · BN_a(y)), so it learns from the first step.
/// </summary>
public sealed class SeriesAdapter : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm2d bn;
    private readonly Conv2d conv;

    public SeriesAdapter(long channels) : base(nameof(SeriesAdapter))
    {
        bn = nn.BatchNorm2d(channels);
        conv = nn.Conv2d(channels, channels, 1, bias: false);
        using (no_grad()) conv.weight.zero_();
        RegisterComponents();
    }

    public override Tensor forward(Tensor y)
    {
        using var scope = NewDisposeScope();
        return (y + conv.call(bn.call(y))).MoveToOuterDisposeScope();
    }
}
