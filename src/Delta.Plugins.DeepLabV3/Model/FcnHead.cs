using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Model;

/// <summary>Auxiliary FCN head on C4 (torchvision's FCNHead): 3x3 conv to in/4 → BN → ReLU → dropout(0.1) → 1x1 classifier.</summary>
public sealed class FcnHead : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public FcnHead(int inChannels, int numClasses, Generator dropoutGenerator) : base(nameof(FcnHead))
    {
        var mid = Math.Max(inChannels / 4, 1);
        layers = nn.Sequential(
            nn.Conv2d(inChannels, mid, 3, padding: 1, bias: false), nn.BatchNorm2d(mid), nn.ReLU(), new SeededDropout(0.1, dropoutGenerator),
            nn.Conv2d(mid, numClasses, 1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => layers.call(x);
}
