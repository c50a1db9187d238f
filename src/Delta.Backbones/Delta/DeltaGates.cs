using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Delta;

/// <summary>
/// The Δ-module Δ_s (the paper's method): Λ = σ(FC(GAP(ReLU(BN(conv3x3(ReLU(BN(conv3x3(h_0)))))))))
/// ∈ [0,1]^{k(k+1)/2}, input-conditioned on the stage input h_0.
/// </summary>
public sealed class DeltaGates : SkipGates
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Linear fc;

    public DeltaGates(int inChannels, int hiddenChannels, int blocks) : base(nameof(DeltaGates), blocks)
    {
        conv1 = nn.Conv2d(inChannels, hiddenChannels, 3, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(hiddenChannels);
        conv2 = nn.Conv2d(hiddenChannels, hiddenChannels, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(hiddenChannels);
        fc = nn.Linear(hiddenChannels, GatePairs.Count(blocks));
        RegisterComponents();
    }

    public override Tensor forward(Tensor h0)
    {
        using var scope = NewDisposeScope();
        var z = nn.functional.relu(bn1.call(conv1.call(h0)));
        z = nn.functional.relu(bn2.call(conv2.call(z)));
        z = nn.functional.adaptive_avg_pool2d(z, 1).flatten(1);          // [N, hidden]
        return fc.call(z).sigmoid().MoveToOuterDisposeScope();            // [N, k(k+1)/2]
    }

    /// <summary>Convs: kaiming normal (fan_out, relu) as in torchvision; BN 1/0; FC: N(0, 0.01²) weights and
    /// zero bias, so every gate starts near σ(0) = 0.5 with a small input-dependent spread and the full
    /// sigmoid slope (gradients are largest there). Stability at the start comes from the skip BN's zero scale
    /// (see <see cref="DeltaStage"/>), not from squashing the gates.</summary>
    public override void ResetParameters(Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var conv in new[] { conv1, conv2 })
        {
            var s = conv.weight!.shape;
            conv.weight.normal_(0, Math.Sqrt(2.0 / (s[0] * s[2] * s[3])), generator);
        }
        foreach (var bn in new[] { bn1, bn2 })
        {
            bn.weight!.fill_(1); bn.bias!.zero_();
        }
        fc.weight!.normal_(0, 0.01, generator);
        fc.bias!.zero_();
    }
}
