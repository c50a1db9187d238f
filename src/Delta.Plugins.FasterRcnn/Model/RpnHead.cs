using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// The RPN head shared by all pyramid levels: 3x3 conv + ReLU, then 1x1 convs for A objectness logits and 4A deltas.
/// Shapes: [N, C, H, W] → logits [N, A, H, W], deltas [N, 4A, H, W].
/// </summary>
public sealed class RpnHead : nn.Module<Tensor, (Tensor Logits, Tensor Deltas)>
{
    private readonly Conv2d conv;
    private readonly Conv2d cls_logits;
    private readonly Conv2d bbox_pred;

    public RpnHead(int channels, int anchorsPerLocation) : base(nameof(RpnHead))
    {
        conv = nn.Conv2d(channels, channels, 3, padding: 1);
        cls_logits = nn.Conv2d(channels, anchorsPerLocation, 1);
        bbox_pred = nn.Conv2d(channels, 4 * anchorsPerLocation, 1);
        RegisterComponents();
        using (no_grad())
            foreach (var (name, p) in named_parameters())
                if (name.EndsWith("weight")) nn.init.normal_(p, std: 0.01); else nn.init.zeros_(p);
    }

    public override (Tensor Logits, Tensor Deltas) forward(Tensor x)
    {
        using var t = nn.functional.relu(conv.call(x));
        return (cls_logits.call(t), bbox_pred.call(t));
    }
}
