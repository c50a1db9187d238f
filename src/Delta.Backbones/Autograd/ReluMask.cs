using static TorchSharp.torch;

namespace Delta.Backbones.Autograd;

/// <summary>
/// Where a ReLU's output was positive, one byte per element, and its use in backward: ∂L/∂x = [y &gt; 0] ⊙ ∂L/∂y.
/// <para>The ops are chosen for speed on libtorch's CPU kernels (2-core EPYC, 4M elements, 2026-11-27): a uint8
/// mask cast to the gradient's dtype and multiplied in place takes 1.2 ms (fp32) / 0.8 ms (bf16), where multiplying
/// by a bool mask directly, a mixed-dtype kernel, takes 11 ms (fp32) / 3.4 ms (bf16). The mask comes from a bool cast
/// of y (y ≥ 0, so nonzero means positive), 0.3–0.4 ms, instead of a comparison, 1–1.8 ms.</para>
/// </summary>
internal static class ReluMask
{
    /// <summary>y = ReLU output (≥ 0) ↦ uint8 mask, 1 where y &gt; 0.</summary>
    public static Tensor Of(Tensor reluOutput)
    {
        using var positive = reluOutput.to_type(ScalarType.Bool);
        return positive.to_type(ScalarType.Byte);
    }

    /// <summary>∂L/∂y ↦ ∂L/∂x, a new tensor in ∂L/∂y's dtype.</summary>
    public static Tensor Apply(Tensor gradOutput, Tensor mask) => mask.to_type(gradOutput.dtype).mul_(gradOutput);
}
