using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Model;

/// <summary>
/// ASPP image-pooling branch (torchvision's ASPPPooling): global average pool → 1x1 conv → BN → ReLU →
/// bilinear upsample back to the feature map. Input/output [N, C, H, W] → [N, out, H, W].
/// <para>The BN sees one value per channel and image. With a batch of one in train mode batch statistics
/// are undefined (PyTorch raises "Expected more than 1 value per channel"); torchvision simply requires
/// batch ≥ 2. Here a train-mode batch of one normalises with the running statistics instead and leaves them
/// unchanged, so single-image steps work and do not corrupt the running averages.</para>
/// </summary>
public sealed class AsppPooling : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    public AsppPooling(int inChannels, int outChannels) : base(nameof(AsppPooling))
    {
        conv = nn.Conv2d(inChannels, outChannels, 1, bias: false);
        bn = nn.BatchNorm2d(outChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var pooled = nn.functional.adaptive_avg_pool2d(x, [1, 1]);      // [N, C, 1, 1]
        var y = conv.call(pooled);                                        // [N, out, 1, 1]
        y = training && x.shape[0] == 1
            ? nn.functional.batch_norm(y, bn.running_mean!, bn.running_var!, bn.weight, bn.bias, training: false, momentum: 0.1, eps: 1e-5)
            : bn.call(y);
        y = nn.functional.relu(y);
        return nn.functional.interpolate(y, size: [x.shape[2], x.shape[3]], mode: InterpolationMode.Bilinear, align_corners: false)
            .MoveToOuterDisposeScope();
    }
}
