using static TorchSharp.torch;

namespace Delta.Backbones.Delta;

/// <summary>Table 8 "random gates": Λ ~ U[0,1]^{k(k+1)/2}, drawn afresh for every input (train and eval);
/// nothing to learn. The control that shows input-conditioning, not extra skips, is what helps.</summary>
public sealed class RandomGates : SkipGates
{
    public RandomGates(int blocks) : base(nameof(RandomGates), blocks) => RegisterComponents();

    /// <summary>Where the gates are drawn from: the backbone's own generator, set by the registry (seeded from the
    /// request's seed, on its device), so a checkpoint can carry its state. Null: libtorch's default generator.</summary>
    public Generator? Draws { get; set; }

    public override Tensor forward(Tensor h0) =>
        rand(new long[] { h0.shape[0], PairCount }, generator: Draws, dtype: ScalarType.Float32, device: h0.device);
}
