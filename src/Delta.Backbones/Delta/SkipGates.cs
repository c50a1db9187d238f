using static TorchSharp.torch;

namespace Delta.Backbones.Delta;

/// <summary>Where the weights λ_{i,j} of a stage's skip connections come from (paper Table 8 variants):
/// h_0 [N, C, H, W] ↦ Λ [N, k(k+1)/2] in <see cref="GatePairs"/> order. h_0 comes in the frozen base's dtype (bf16 in
/// the fast mode); Λ is always fp32, like all of the Δ arithmetic.</summary>
public abstract class SkipGates : nn.Module<Tensor, Tensor>
{
    protected SkipGates(string name, int blocks) : base(name) => Blocks = blocks;

    public int Blocks { get; }
    public int PairCount => GatePairs.Count(Blocks);

    /// <summary>Seeded re-initialisation (independent of the global RNG).</summary>
    public virtual void ResetParameters(Generator generator) { }
}
