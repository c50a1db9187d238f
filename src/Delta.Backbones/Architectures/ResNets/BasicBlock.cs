using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ResNets;

/// <summary>torchvision's BasicBlock (expansion 1): conv3x3 → BN → ReLU → conv3x3 → BN, + shortcut, ReLU.
/// Field names are torchvision's so state-dict keys match (conv1, bn1, conv2, bn2, downsample.0/.1).</summary>
public sealed class BasicBlock : ResidualBlock
{
    public const int Expansion = 1;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly ProjectionShortcut? downsample;
    private readonly ConvBatchNorm unit1;
    private readonly ConvBatchNorm unit2;

    public BasicBlock(int inplanes, int planes, int stride, ProjectionShortcut? downsample) : base(nameof(BasicBlock))
    {
        conv1 = nn.Conv2d(inplanes, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = nn.Conv2d(planes, planes, 3, stride: 1, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        this.downsample = downsample;
        RegisterComponents();
        (unit1, unit2) = (new(conv1, bn1), new(conv2, bn2));
    }

    public override ProjectionShortcut? Downsample => downsample;

    protected override IEnumerable<ConvBatchNorm> ConvBatchNorms => [unit1, unit2];

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Intermediates are freed as soon as they are read (see Bottleneck).
        Tensor h;
        using (var a = unit1.ForwardRelu(x))
            h = unit2.Forward(a);
        using var projected = downsample?.call(x);
        // In place on h (no backward needs a BN or conv output), never on x: the Δ cascade keeps x alive as a
        // skip source n_i.
        return ResidualRelu(h.add_(projected ?? x)).MoveToOuterDisposeScope();
    }
}
