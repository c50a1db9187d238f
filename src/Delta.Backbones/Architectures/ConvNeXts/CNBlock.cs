using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ConvNeXts;

/// <summary>
/// ConvNeXt block (torchvision CNBlock): x + DropPath(γ ⊙ fc2(GELU(fc1(LN(dwconv7x7(x)))))), with the LN and
/// the two Linear layers working channels-last. γ (layer_scale, [C, 1, 1]) starts at 1e-6.
/// Keys: block.0 (depthwise conv), block.2 (LayerNorm), block.3 (Linear C→4C), block.5 (Linear 4C→C), layer_scale.
/// </summary>
public sealed class CNBlock : nn.Module<Tensor, Tensor>
{
    public const double LayerScaleInit = 1e-6;

    private readonly Sequential block;
    private readonly Parameter layer_scale;
    private readonly StochasticDepth stochastic_depth;

    public CNBlock(int dim, double dropPathRate) : base(nameof(CNBlock))
    {
        block = nn.Sequential(
            ("0", nn.Conv2d(dim, dim, 7, padding: 3, groups: dim, bias: true)),
            ("1", new Permute(0, 2, 3, 1)),                   // [N, C, H, W] → [N, H, W, C]
            ("2", nn.LayerNorm(dim, eps: 1e-6)),
            ("3", nn.Linear(dim, 4 * dim)),
            ("4", nn.GELU()),
            ("5", nn.Linear(4 * dim, dim)),
            ("6", new Permute(0, 3, 1, 2)));                  // [N, H, W, C] → [N, C, H, W]
        layer_scale = new Parameter(full(new long[] { dim, 1, 1 }, LayerScaleInit));
        stochastic_depth = new StochasticDepth(dropPathRate);
        RegisterComponents();
    }

    public double DropPathRate => stochastic_depth.Probability;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var branch = stochastic_depth.call(layer_scale * block.call(x));
        // Not in place on x: the Δ cascade keeps x alive as a skip source n_i.
        return (branch + x).MoveToOuterDisposeScope();
    }

    internal void ResetLayerScale()
    {
        using var noGrad = no_grad();
        layer_scale.fill_(LayerScaleInit);
    }
}
