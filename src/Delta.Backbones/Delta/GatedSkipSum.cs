using static TorchSharp.torch;

namespace Delta.Backbones.Delta;

/// <summary>The gated skip sum of one target block j: S_j = Σ_{i&lt;j} λ_{i,j} n_i.</summary>
public static class GatedSkipSum
{
    /// <summary>λ_j [N, j] (column i = λ_{i,j}), sources n_0..n_{j−1} [N, C, H, W] ↦ S_j [N, C, H, W]. Accumulated left to
    /// right in place, each product freed once added: the values are those of n_0λ_0 + n_1λ_1 + …, evaluated
    /// pairwise in that order, whether autograd records it or an activation-free node recomputes it.</summary>
    public static Tensor Of(Tensor gates, IReadOnlyList<Tensor> sources)
    {
        if (sources.Count == 0 || gates.shape[1] != sources.Count)
            throw new ArgumentException($"{gates.shape[1]} gates for {sources.Count} skip sources.");
        var n = gates.shape[0];
        using var scope = NewDisposeScope();
        var sum = gates[.., 0].reshape(n, 1, 1, 1) * sources[0];
        for (int i = 1; i < sources.Count; i++)
        {
            using var term = gates[.., i].reshape(n, 1, 1, 1) * sources[i];
            sum.add_(term);
        }
        return sum.MoveToOuterDisposeScope();
    }
}
