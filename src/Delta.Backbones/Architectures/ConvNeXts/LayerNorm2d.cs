using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ConvNeXts;

/// <summary>LayerNorm over the channels of an [N, C, H, W] map (torchvision's LayerNorm2d): normalise each
/// pixel's C-vector. Keys "weight", "bias" as in torchvision.</summary>
public sealed class LayerNorm2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly double eps;

    public LayerNorm2d(int channels, double eps = 1e-6) : base(nameof(LayerNorm2d))
    {
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        this.eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var channelsLast = x.permute(0, 2, 3, 1);                                      // [N, H, W, C]
        var y = nn.functional.layer_norm(channelsLast, new[] { weight.shape[0] }, weight, bias, eps);
        return y.permute(0, 3, 1, 2).MoveToOuterDisposeScope();                        // [N, C, H, W]
    }

    internal void Reset()
    {
        using var noGrad = no_grad();
        weight.fill_(1); bias.zero_();
    }
}
