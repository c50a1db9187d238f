using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ConvNeXts;

/// <summary>
/// ConvNeXt trunk laid out like torchvision's convnext_tiny so its state-dict keys match:
/// features.0 = stem (0: 4x4 stride-4 conv, 1: LayerNorm2d); features.1/3/5/7 = stages of CNBlocks;
/// features.2/4/6 = downsampling (0: LayerNorm2d, 1: 2x2 stride-2 conv); classifier.0 = the pre-logit
/// LayerNorm2d (the Linear of torchvision's classifier is task-side).
/// <para>For Δ-Networks a stage's sub-blocks are its CNBlocks and its input h_0 is the output of that stage's
/// downsampling layer (the stem for the first stage): the downsampling layer is the stage's entry, so every
/// n_i has the same shape and n_0 = h_0 needs no projection.</para>
/// </summary>
public sealed class ConvNeXt : StagedBackbone
{
    private readonly Sequential features;
    private readonly Sequential classifier;
    private readonly IReadOnlyList<BackboneStage> stages;
    private readonly nn.Module<Tensor, Tensor> stem;

    public ConvNeXtSpec Spec { get; }

    public ConvNeXt(ConvNeXtSpec spec, int outputStride = 32) : base(nameof(ConvNeXt))
    {
        if (spec.Depths.Count != 4 || spec.Dims.Count != 4 || spec.Depths.Any(d => d < 1))
            throw new ArgumentException("A ConvNeXt needs 4 stages with at least one block each.");
        if (outputStride != 32)
            throw new NotSupportedException($"Output stride {outputStride} (dilation) is only supported for Bottleneck ResNets; ConvNeXt runs at 32.");
        Spec = spec;

        var totalBlocks = spec.Depths.Sum();
        var blockId = 0;
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        var stageBlocks = new List<List<nn.Module<Tensor, Tensor>>>();
        var entries = new List<nn.Module<Tensor, Tensor>?>();
        var stemModule = nn.Sequential(("0", nn.Conv2d(3, spec.Dims[0], 4, stride: 4, bias: true)), ("1", new LayerNorm2d(spec.Dims[0])));
        layers.Add(("0", stemModule));
        for (int s = 0; s < 4; s++)
        {
            if (s > 0)
            {
                var down = nn.Sequential(("0", new LayerNorm2d(spec.Dims[s - 1])), ("1", nn.Conv2d(spec.Dims[s - 1], spec.Dims[s], 2, stride: 2, bias: true)));
                layers.Add(((2 * s).ToString(), down));
                entries.Add(down);
            }
            else entries.Add(null);
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (int b = 0; b < spec.Depths[s]; b++, blockId++)
                blocks.Add(new CNBlock(spec.Dims[s], spec.StochasticDepthProbability * blockId / Math.Max(1, totalBlocks - 1.0)));
            layers.Add(((2 * s + 1).ToString(), nn.Sequential(blocks.Select((m, i) => (i.ToString(), m)).ToArray())));
            stageBlocks.Add(blocks);
        }
        features = nn.Sequential(layers.ToArray());
        classifier = nn.Sequential(("0", new LayerNorm2d(spec.Dims[3])));
        RegisterComponents();

        stem = stemModule;
        stages = Enumerable.Range(0, 4).Select(s => new BackboneStage(
            $"C{s + 2}", entries[s], stageBlocks[s], Shortcut: null,
            InputChannels: spec.Dims[s], OutputChannels: spec.Dims[s], Stride: 4 << s)).ToList();
    }

    public override IReadOnlyList<BackboneStage> Stages => stages;

    public override Tensor ForwardStem(Tensor x) => stem.call(x);

    /// <summary>Global average pool, then the pretrained pre-logit LayerNorm (torchvision's classifier.0).</summary>
    public override Tensor Pool(Tensor lastStage)
    {
        using var scope = NewDisposeScope();
        var pooled = nn.functional.adaptive_avg_pool2d(lastStage, 1);                  // [N, C, 1, 1]
        return classifier.call(pooled).flatten(1).MoveToOuterDisposeScope();           // [N, C]
    }

    /// <summary>torchvision's init: Conv2d and Linear weights trunc_normal(std 0.02, bounds ±2), biases 0;
    /// LayerNorms 1/0; layer scale 1e-6.</summary>
    public override void ResetParameters(Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var (_, m) in named_modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    TruncatedNormal.Fill(conv.weight!, 0.02, generator);
                    conv.bias?.zero_();
                    break;
                case Linear linear:
                    TruncatedNormal.Fill(linear.weight!, 0.02, generator);
                    linear.bias?.zero_();
                    break;
                case LayerNorm ln:
                    ln.weight!.fill_(1); ln.bias!.zero_();
                    break;
                case LayerNorm2d ln2d:
                    ln2d.Reset();
                    break;
                case CNBlock block:
                    block.ResetLayerScale();
                    break;
            }
        }
    }
}
