using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Model;

/// <summary>The task's own trainable modules: the DeepLab head on C5 and, optionally, the auxiliary FCN head on C4.
/// One module so that its state dict is the "head.*" section of a patch.</summary>
public sealed class SegmentationHeads : nn.Module
{
    private readonly DeepLabHead classifier;
    private readonly FcnHead? aux_classifier;

    public SegmentationHeads(int c5Channels, int c4Channels, int numClasses, IReadOnlyList<int> rates, int channels, bool auxiliary, Generator dropoutGenerator)
        : base(nameof(SegmentationHeads))
    {
        classifier = new DeepLabHead(c5Channels, numClasses, rates, dropoutGenerator, channels);
        aux_classifier = auxiliary ? new FcnHead(c4Channels, numClasses, dropoutGenerator) : null;
        RegisterComponents();
    }

    public DeepLabHead Classifier => classifier;
    public FcnHead? Auxiliary => aux_classifier;
}
