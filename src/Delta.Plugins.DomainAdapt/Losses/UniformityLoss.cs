using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Losses;

/// <summary>
/// Uniformity loss of Wang &amp; Isola 2020 (eq. 5), the "uniform prior" of Sinha et al. 2022:
/// L_unif = log E_{i&lt;j} exp(−t‖z_i − z_j‖²), z = f(x)/‖f(x)‖ over the batch's distinct pairs.
/// Lower = features spread more evenly on the unit hypersphere.
/// </summary>
public static class UniformityLoss
{
    /// <summary>Wang &amp; Isola's default temperature.</summary>
    public const double DefaultTemperature = 2.0;

    /// <param name="features">[N, D], N ≥ 2 (any scale; normalised here).</param>
    public static Tensor Compute(Tensor features, double temperature = DefaultTemperature)
    {
        if (features.dim() != 2 || features.shape[0] < 2)
            throw new ArgumentException($"Uniformity loss needs features [N ≥ 2, D]; got [{string.Join(", ", features.shape)}].");
        using var scope = NewDisposeScope();
        var n = features.shape[0];
        var z = nn.functional.normalize(features, p: 2, dim: 1);
        // ‖z_i − z_j‖² = 2 − 2 z_i·z_j for unit vectors; clamp guards against tiny negative rounding.
        var sq = (2 - 2 * z.matmul(z.t())).clamp_min(0);
        var upper = ones(n, n, dtype: ScalarType.Bool, device: features.device).triu(1);
        var pairs = sq.masked_select(upper);                                   // [N(N−1)/2]
        // log mean exp(−t d²) = logsumexp(−t d²) − log M: stable when every pair is far apart.
        var loss = (pairs * -temperature).logsumexp(0) - Math.Log(pairs.shape[0]);
        return loss.MoveToOuterDisposeScope();
    }
}
