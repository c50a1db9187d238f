using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Losses;

/// <summary>
/// The two contrastive losses of Bi-Tuning's projector head (Zhong et al. 2020, Eq. 3–5), on L2-normalised
/// query q [B, D] (trainable encoder), key k [B, D] (momentum key encoder, no gradient), and the per-class
/// key queue [C, K, D]. Logits are dot products divided by the temperature τ (reference 0.07).
/// <list type="bullet">
/// <item>Unsupervised (instance) contrastive: the positive is the query's own key; every queued key is a negative.
///   L_u = −log( exp(q·k/τ) / (exp(q·k/τ) + Σ_{all queued a} exp(q·a/τ)) ).</item>
/// <item>Categorical contrastive: positives are the own key and the K queued keys of the query's class;
///   L_c = −(1/(K+1)) Σ_{p ∈ P} log( exp(q·p/τ) / (exp(q·k/τ) + Σ_{all queued a} exp(q·a/τ)) ).</item>
/// </list>
/// Both are averaged over the batch. Not yet wired into a training run: the Bi-Tuning runs of issue #4 are not done.
/// </summary>
public static class BiTuningLosses
{
    /// <summary>[B, 1 + C·K] logits: column 0 = q·k, then q·queue in class-major order, all / τ.</summary>
    private static Tensor Logits(Tensor q, Tensor k, Tensor queue, double temperature)
    {
        var own = (q * k).sum(1, keepdim: true);                                          // [B, 1]
        var queued = q.matmul(queue.reshape(-1, queue.shape[2]).t());                     // [B, C·K]
        return cat([own, queued], 1) / temperature;
    }

    public static Tensor Unsupervised(Tensor q, Tensor k, Tensor queue, double temperature = 0.07)
    {
        using var scope = NewDisposeScope();
        var logits = Logits(q, k, queue, temperature);
        var target = zeros(q.shape[0], dtype: ScalarType.Int64, device: q.device);
        return nn.functional.cross_entropy(logits, target).MoveToOuterDisposeScope();
    }

    public static Tensor Categorical(Tensor q, Tensor k, Tensor queue, Tensor labels, double temperature = 0.07)
    {
        using var scope = NewDisposeScope();
        long c = queue.shape[0], perClass = queue.shape[1];
        var logProb = nn.functional.log_softmax(Logits(q, k, queue, temperature), 1);   // [B, 1 + C·K]
        // Positive mask: column 0 always; queued column j belongs to class j / K.
        var columnClass = arange(c * perClass, dtype: ScalarType.Int64, device: q.device).div(perClass, rounding_mode: RoundingMode.floor);
        var queuedPositive = columnClass.unsqueeze(0).eq(labels.unsqueeze(1));            // [B, C·K]
        var ownPositive = ones(q.shape[0], 1, dtype: ScalarType.Bool, device: q.device);
        var positive = cat([ownPositive, queuedPositive], 1).to_type(logProb.dtype);
        var perItem = -(logProb * positive).sum(1) / positive.sum(1);
        return perItem.mean().MoveToOuterDisposeScope();
    }
}
