using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Adapters;

/// <summary>
/// Rebuffi et al. 2018's parallel adapter: a 1x1 conv on the input x of a 3x3 conv, with that conv's stride, whose
/// output is added to the 3x3 conv's output (conv3x3(x) + conv1x1(x)). A 1x1 conv with the same stride and no
/// padding gives the same spatial size as a 3x3 conv with padding = dilation. Zero-initialised: the sum is exact at start.
/// </summary>
public sealed class ParallelAdapter : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;

    public ParallelAdapter(long inChannels, long outChannels, long stride) : base(nameof(ParallelAdapter))
    {
        conv = nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false);
        using (no_grad()) conv.weight.zero_();
        RegisterComponents();
    }

    /// <summary>x [N, Cin, H, W] (the 3x3 conv's input) ↦ [N, Cout, H/stride, W/stride].</summary>
    public override Tensor forward(Tensor x) => conv.call(x);
}
