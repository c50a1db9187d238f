using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Delta;

/// <summary>
/// Table 8 "learnable scalars", input-independent. With <c>existingOnly</c> only the pairs (j−1, j) — the
/// connections that run parallel to each block's existing identity skip — get a scalar (k of them); every
/// other λ is 0. Otherwise every pair i &lt; j has its own scalar. Scalars are unconstrained and start at
/// 0.5, the expected value of a Δ or random gate, so the variants start from comparable skip strengths.
/// </summary>
public sealed class LearnableGates : SkipGates
{
    private readonly Parameter weight;
    private readonly bool existingOnly;

    public LearnableGates(int blocks, bool existingOnly) : base(nameof(LearnableGates), blocks)
    {
        this.existingOnly = existingOnly;
        weight = new Parameter(full(existingOnly ? blocks : GatePairs.Count(blocks), 0.5f));
        RegisterComponents();
    }

    public override Tensor forward(Tensor h0)
    {
        using var scope = NewDisposeScope();
        // A copy, not a view of the parameter: gates a caller keeps (BackboneFeatures.Gates) must not change when an
        // optimizer steps the parameter in place afterwards.
        Tensor row = weight.clone();                                           // [P] or [k]
        if (existingOnly)
        {
            // Scatter the k scalars to the (j−1, j) slots of Λ; the rest stay 0. Slot of (j−1, j) is GatePairs.Index's
            // j(j−1)/2 + j − 1 = j(j+1)/2 − 1, computed on the device (from a host array it would be a synchronous copy per
            // forward on CUDA).
            var j = arange(1, Blocks + 1, dtype: ScalarType.Int64, device: h0.device);
            var slots = j.mul(j + 1).floor_divide(2).sub_(1);
            row = zeros(PairCount, dtype: weight.dtype, device: h0.device).index_put_(row, slots);
        }
        return row.unsqueeze(0).expand(h0.shape[0], PairCount).MoveToOuterDisposeScope();   // [N, P]
    }

    public override void ResetParameters(Generator generator)
    {
        using var noGrad = no_grad();
        weight.fill_(0.5);
    }
}
