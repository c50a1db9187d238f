using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ResNets;

/// <summary>
/// torchvision's ResNet trunk (no avgpool/fc: heads are task-side), written here so the stages and the
/// blocks' own shortcuts are reachable for Δ-Networks. State-dict keys are identical to torchvision's
/// (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, …), so torchvision checkpoints load by name.
/// <para><paramref name="outputStride"/> 16 or 8 replaces the stride of layer4 (and layer3) by dilation,
/// exactly like torchvision's replace_stride_with_dilation (Bottleneck only, as there).</para>
/// </summary>
public sealed class ResNet : StagedBackbone
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly IReadOnlyList<BackboneStage> stages;
    private readonly ConvBatchNorm stem;

    public ResNetSpec Spec { get; }

    public ResNet(ResNetSpec spec, int outputStride = 32) : base(nameof(ResNet))
    {
        if (spec.Layers.Count != 4 || spec.Layers.Any(n => n < 1))
            throw new ArgumentException($"A ResNet needs 4 stages with at least one block each (got [{string.Join(",", spec.Layers)}]).");
        var dilate = outputStride switch
        {
            32 => new[] { false, false, false },
            16 => new[] { false, false, true },
            8 => new[] { false, true, true },
            _ => throw new ArgumentException($"Output stride must be 8, 16 or 32 (got {outputStride})."),
        };
        if (spec.Block == ResNetBlockKind.Basic && outputStride != 32)
            throw new NotSupportedException($"Output stride {outputStride} needs dilation, which BasicBlock ResNets do not support (as in torchvision); use a Bottleneck ResNet.");
        Spec = spec;

        var w = spec.BaseWidth;
        conv1 = nn.Conv2d(3, w, 7, stride: 2, padding: 3, bias: false);
        bn1 = nn.BatchNorm2d(w);
        maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);

        // torchvision's _make_layer, with its running inplanes/dilation state.
        int inplanes = w, dilation = 1, stride = 4;
        var built = new List<(Sequential Layer, List<ResidualBlock> Blocks, int InChannels, int OutChannels, int Stride)>();
        for (int s = 0; s < 4; s++)
        {
            int planes = w << s, layerStride = s == 0 ? 1 : 2;
            var previousDilation = dilation;
            if (s > 0 && dilate[s - 1]) { dilation *= layerStride; layerStride = 1; }
            stride *= layerStride;
            var blocks = new List<ResidualBlock>();
            var stageIn = inplanes;
            var outPlanes = planes * spec.Expansion;
            var downsample = layerStride != 1 || inplanes != outPlanes ? new ProjectionShortcut(inplanes, outPlanes, layerStride) : null;
            blocks.Add(MakeBlock(spec, inplanes, planes, layerStride, downsample, previousDilation));
            inplanes = outPlanes;
            for (int b = 1; b < spec.Layers[s]; b++) blocks.Add(MakeBlock(spec, inplanes, planes, 1, null, dilation));
            var layer = nn.Sequential(blocks.Select((b, i) => (i.ToString(), (nn.Module<Tensor, Tensor>)b)).ToArray());
            built.Add((layer, blocks, stageIn, outPlanes, stride));
        }
        (layer1, layer2, layer3, layer4) = (built[0].Layer, built[1].Layer, built[2].Layer, built[3].Layer);
        RegisterComponents();
        stem = new ConvBatchNorm(conv1, bn1);

        // Assigned after RegisterComponents and not a module type: a view, never registered twice.
        stages = built.Select((b, s) => new BackboneStage($"C{s + 2}", null, b.Blocks, b.Blocks[0].Downsample, b.InChannels, b.OutChannels, b.Stride)).ToList();
    }

    private static ResidualBlock MakeBlock(ResNetSpec spec, int inplanes, int planes, int stride, ProjectionShortcut? downsample, int dilation) =>
        spec.Block == ResNetBlockKind.Basic
            ? new BasicBlock(inplanes, planes, stride, downsample)
            : new Bottleneck(inplanes, planes, stride, downsample, spec.Groups, spec.WidthPerGroup, dilation);

    public override IReadOnlyList<BackboneStage> Stages => stages;

    public override Tensor ForwardStem(Tensor x)
    {
        using var scope = NewDisposeScope();
        using var stemOutput = stem.ForwardRelu(x);   // freed once pooled
        return StemMaxPool.Forward(maxpool, stemOutput).MoveToOuterDisposeScope();
    }

    /// <summary>Folds every BN into its conv (stem, blocks, shortcuts); for frozen derived copies only, see
    /// <see cref="BatchNormFolding"/>. The BNs stay registered (same state-dict keys) but are no longer run.</summary>
    public override int FoldBatchNorms()
    {
        stem.Fold();
        foreach (var block in stages.SelectMany(s => s.Blocks).Cast<ResidualBlock>()) block.FoldBatchNorms();
        return modules().OfType<BatchNorm2d>().Count();
    }

    /// <summary>torchvision's init: kaiming_normal_(fan_out, relu) for convs, BN weight 1 / bias 0,
    /// running mean 0 / var 1 (zero_init_residual = false).</summary>
    public override void ResetParameters(Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var (_, m) in named_modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    // kaiming_normal_(mode=fan_out, relu): std = sqrt(2 / (out_channels · kh · kw)).
                    var wShape = conv.weight!.shape;
                    conv.weight.normal_(0, Math.Sqrt(2.0 / (wShape[0] * wShape[2] * wShape[3])), generator);
                    break;
                case BatchNorm2d bn:
                    bn.weight!.fill_(1);
                    bn.bias!.zero_();
                    bn.running_mean!.zero_();
                    bn.running_var!.fill_(1);
                    bn.num_batches_tracked!.zero_();
                    break;
            }
        }
    }
}
