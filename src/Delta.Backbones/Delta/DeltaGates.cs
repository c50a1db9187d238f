using Delta.Backbones.Autograd;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Delta;

/// <summary>
/// The Δ-module Δ_s (the paper's method): Λ = σ(FC(GAP(ReLU(BN(conv3x3(ReLU(BN(conv3x3(h_0)))))))))
/// ∈ [0,1]^{k(k+1)/2}, input-conditioned on the stage input h_0. With a gate stride s > 1
/// (<see cref="Abstractions.Backbones.DeltaConfig.GateStride"/>) h_0 is average-pooled by s first.
/// <para>With <see cref="ConvolutionDType"/> = bfloat16 the two convolutions compute in bf16 from bf16 casts of their
/// fp32 weights and input, what PyTorch's autocast does to a conv (TorchSharp 0.107 has no autocast): parameters,
/// their gradients (the cast is differentiable) and optimizer state stay fp32, the BNs, pooling, FC and sigmoid run
/// in fp32 on the conv outputs cast back up. Weights and input get channels-last strides when the input has them.</para>
/// </summary>
public sealed class DeltaGates : SkipGates
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Linear fc;
    private readonly int stride;

    public DeltaGates(int inChannels, int hiddenChannels, int blocks, int stride = 1) : base(nameof(DeltaGates), blocks)
    {
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "The gate stride must be at least 1.");
        this.stride = stride;
        conv1 = nn.Conv2d(inChannels, hiddenChannels, 3, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(hiddenChannels);
        conv2 = nn.Conv2d(hiddenChannels, hiddenChannels, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(hiddenChannels);
        fc = nn.Linear(hiddenChannels, GatePairs.Count(blocks));
        RegisterComponents();
    }

    /// <summary>Float32 (default) or BFloat16: the dtype the two 3x3 convolutions compute in (see class doc).</summary>
    public ScalarType ConvolutionDType { get; set; } = ScalarType.Float32;

    /// <summary>h_0 in any floating dtype (the stage input of a bf16 fast-mode base is bf16) ↦ Λ, fp32.</summary>
    public override Tensor forward(Tensor h0)
    {
        using var scope = NewDisposeScope();
        // ceil_mode keeps partial windows (a 7x7 map at s = 4 gives 2x2), and each average counts real positions only.
        var x = stride == 1 ? h0 : nn.functional.avg_pool2d(h0, [stride, stride], [stride, stride], ceil_mode: true, count_include_pad: false);
        var z = nn.functional.relu(bn1.call(Convolve(conv1, x)));
        z = Convolve(conv2, z);
        // BN → ReLU → GAP as one node that keeps only its input when training (Autograd/PooledBatchNormReluFunction).
        var pooled = PooledBatchNormReluFunction.Applies(bn2) ? PooledBatchNormReluFunction.Apply(z, bn2) : PooledBatchNormReluFunction.Plain(z, bn2);   // [N, hidden]
        return fc.call(pooled).sigmoid().MoveToOuterDisposeScope();       // [N, k(k+1)/2]
    }

    private Tensor Convolve(Conv2d conv, Tensor x)
    {
        if (ConvolutionDType == ScalarType.Float32) return conv.call(x.dtype == ScalarType.Float32 ? x : x.to_type(ScalarType.Float32));
        var channelsLast = Precision.FrozenBaseCopy.IsChannelsLast(x);
        var input = Precision.FrozenBaseCopy.Convert(x, ConvolutionDType, channelsLast);
        var weight = Precision.FrozenBaseCopy.Convert(conv.weight!, ConvolutionDType, channelsLast);
        // The module's own geometry, so the bf16 path cannot drift from the fp32 one.
        return nn.functional.conv2d(input, weight, null, conv.stride, conv.padding!, conv.dilation, conv.groups).to_type(ScalarType.Float32);
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
