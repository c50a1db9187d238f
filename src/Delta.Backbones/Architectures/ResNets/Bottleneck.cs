using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ResNets;

/// <summary>torchvision's Bottleneck (ResNet v1.5, expansion 4, stride on the 3x3 conv): 1x1 → 3x3 (groups,
/// dilation) → 1x1, each with BN, + shortcut, ReLU. width = planes·(widthPerGroup/64)·groups covers
/// ResNeXt (32x4d) and Wide ResNet (width_per_group 128). Field names match torchvision's state dict.</summary>
public sealed class Bottleneck : ResidualBlock
{
    public const int Expansion = 4;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly ProjectionShortcut? downsample;
    private readonly ConvBatchNorm unit1;
    private readonly ConvBatchNorm unit2;
    private readonly ConvBatchNorm unit3;

    public Bottleneck(int inplanes, int planes, int stride, ProjectionShortcut? downsample, int groups, int widthPerGroup, int dilation)
        : base(nameof(Bottleneck))
    {
        var width = (int)(planes * (widthPerGroup / 64.0)) * groups;
        conv1 = nn.Conv2d(inplanes, width, 1, bias: false);
        bn1 = nn.BatchNorm2d(width);
        conv2 = nn.Conv2d(width, width, 3, stride: stride, padding: dilation, dilation: dilation, groups: groups, bias: false);
        bn2 = nn.BatchNorm2d(width);
        conv3 = nn.Conv2d(width, planes * Expansion, 1, bias: false);
        bn3 = nn.BatchNorm2d(planes * Expansion);
        this.downsample = downsample;
        RegisterComponents();
        (unit1, unit2, unit3) = (new(conv1, bn1), new(conv2, bn2), new(conv3, bn3));
    }

    public override ProjectionShortcut? Downsample => downsample;

    protected override IEnumerable<ConvBatchNorm> ConvBatchNorms => [unit1, unit2, unit3];

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // Intermediates are freed as soon as they are read (autograd keeps its own references where it needs them):
        // a block then holds two or three maps at a time instead of all of them until it returns.
        Tensor h;
        using (var a = unit1.ForwardRelu(x))
        using (var b = unit2.ForwardRelu(a))
            h = unit3.Forward(b);
        using var projected = downsample?.call(x);
        // In place on h (no backward needs a BN or conv output), never on x: the Δ cascade keeps x alive as a
        // skip source n_i.
        return ResidualRelu(h.add_(projected ?? x)).MoveToOuterDisposeScope();
    }
}
