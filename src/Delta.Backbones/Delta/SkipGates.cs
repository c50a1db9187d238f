using static TorchSharp.torch;

namespace Delta.Backbones.Delta;

/// <summary>Where the weights λ_{i,j} of a stage's skip connections come from (paper Table 8 variants):
/// h_0 [N, C, H, W] ↦ Λ [N, k(k+1)/2] in <see cref="GatePairs"/> order.</summary>
public abstract class SkipGates : nn.Module<Tensor, Tensor>
{
    protected SkipGates(string name, int blocks) : base(name) => Blocks = blocks;

    public int Blocks { get; }
    public int PairCount => GatePairs.Count(Blocks);

    /// <summary>Seeded re-initialisation (independent of the global RNG).</summary>
    public virtual void ResetParameters(Generator generator) { }
}
