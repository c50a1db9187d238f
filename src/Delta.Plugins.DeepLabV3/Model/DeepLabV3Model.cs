using TorchSharp;
using Delta.Abstractions.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Model;

/// <summary>
/// DeepLab-V3 on a Δ-backbone: backbone (dilated to output stride 8/16) → C5 → <see cref="DeepLabHead"/> →
/// bilinear upsampling to the input size; optional auxiliary <see cref="FcnHead"/> on C4. The backbone is
/// not owned (the registry shares its base); the heads are.
/// </summary>
public sealed class DeepLabV3Model : IDisposable
{
    private readonly IDeltaBackbone backbone;

    /// <param name="seed">Seeds <see cref="DropoutGenerator"/>, the heads' dropout masks (the job's seed).</param>
    public DeepLabV3Model(IDeltaBackbone backbone, int numClasses, int outputStride, int headChannels = 256, bool auxiliary = false, long seed = 0)
    {
        this.backbone = backbone;
        backbone.ReturnStages = auxiliary ? ["C4", "C5"] : ["C5"];      // what Forward reads; the others are not kept
        NumClasses = numClasses;
        OutputStride = outputStride;
        var c5 = backbone.FeatureInfo.Single(f => f.Name == "C5");
        var c4 = backbone.FeatureInfo.Single(f => f.Name == "C4");
        if (c5.Stride != outputStride)
            throw new ArgumentException($"Backbone C5 has stride {c5.Stride}, but the head was built for output stride {outputStride}; request the backbone with OutputStride = {outputStride}.");
        DropoutGenerator = new Generator(unchecked((ulong)seed), backbone.Device);
        Heads = new SegmentationHeads(c5.Channels, c4.Channels, numClasses, Aspp.RatesFor(outputStride), headChannels, auxiliary, DropoutGenerator);
        Heads.to(backbone.Device);
    }

    public IDeltaBackbone Backbone => backbone;
    public SegmentationHeads Heads { get; }

    /// <summary>The generator every dropout of the heads draws from, on the backbone's device; a training loop hands it
    /// to the trainer so that checkpoints carry its state.</summary>
    public Generator DropoutGenerator { get; }
    public int NumClasses { get; }
    public int OutputStride { get; }

    /// <summary>Δ parameters (plus the base's for a trainable copy) and the heads' parameters: what the optimizer sees.</summary>
    public IReadOnlyList<Parameter> TrainableParameters =>
        backbone.TrainableParameters.Concat(Heads.parameters().Where(p => p.requires_grad)).ToList();

    /// <summary>Train/eval of Δ-modules and heads; the shared base's BN stays in eval (the backbone guarantees it).</summary>
    public void Train(bool mode)
    {
        backbone.Train(mode);
        Heads.train(mode);
    }

    /// <summary>input: preprocessed [N, 3, H, W] → logits [N, classes, H, W] (and aux logits when <paramref name="withAux"/>).</summary>
    public SegmentationOutput Forward(Tensor input, bool withAux = false)
    {
        using var scope = NewDisposeScope();
        long h = input.shape[2], w = input.shape[3];
        var features = backbone.Forward(input);
        var logits = Upsample(Heads.Classifier.call(features["C5"]), h, w);
        Tensor? aux = null;
        if (withAux && Heads.Auxiliary is { } auxHead)
            aux = Upsample(auxHead.call(features["C4"]), h, w).MoveToOuterDisposeScope();
        return new SegmentationOutput(logits.MoveToOuterDisposeScope(), aux);
    }

    private static Tensor Upsample(Tensor x, long h, long w) =>
        nn.functional.interpolate(x, size: [h, w], mode: InterpolationMode.Bilinear, align_corners: false);

    public void Dispose()
    {
        Heads.Dispose();
        DropoutGenerator.Dispose();
    }
}
