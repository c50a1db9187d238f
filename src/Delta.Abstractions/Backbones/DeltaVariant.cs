namespace Delta.Abstractions.Backbones;

/// <summary>How the skip connections of a Δ-augmented stage are weighted (paper Table 8).
/// Registry names in brackets: these strings are what job files and the CLI accept.</summary>
public enum DeltaVariant
{
    /// <summary>[delta] Input-conditioned gates Λ = Δ_s(h_0) ∈ [0,1]^{k(k+1)/2}: the paper's method.</summary>
    Delta,
    /// <summary>[random] Gates drawn uniformly in [0,1] per input (no learning).</summary>
    RandomGates,
    /// <summary>[existing-learnable] Only the existing identity skips (i = j-1) get a learnable scalar.</summary>
    LearnableExistingSkips,
    /// <summary>[all-fixed] Every skip pair i &lt; j added with weight 1.</summary>
    AllSkipsFixed,
    /// <summary>[all-learnable] Every skip pair i &lt; j with a learnable (input-independent) scalar.</summary>
    AllSkipsLearnable,
}
