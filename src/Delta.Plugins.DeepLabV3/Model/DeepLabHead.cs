using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Model;

/// <summary>torchvision's DeepLabHead: ASPP → 3x3 conv → BN → ReLU → 1x1 classifier. [N, C5, h, w] → [N, classes, h, w].</summary>
public sealed class DeepLabHead : nn.Module<Tensor, Tensor>
{
    private readonly Aspp aspp;
    private readonly Sequential refine;
    private readonly Conv2d classifier;

    public DeepLabHead(int inChannels, int numClasses, IReadOnlyList<int> rates, Generator dropoutGenerator, int channels = 256) : base(nameof(DeepLabHead))
    {
        aspp = new Aspp(inChannels, rates, dropoutGenerator, channels);
        refine = nn.Sequential(nn.Conv2d(channels, channels, 3, padding: 1, bias: false), nn.BatchNorm2d(channels), nn.ReLU());
        classifier = nn.Conv2d(channels, numClasses, 1);
        RegisterComponents();
    }

    public Aspp Aspp => aspp;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return classifier.call(refine.call(aspp.call(x))).MoveToOuterDisposeScope();
    }
}
