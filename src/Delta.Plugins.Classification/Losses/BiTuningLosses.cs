using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Losses;

/// <summary>
/// Bi-Tuning's two contrastive terms (Zhong et al. 2020), computed as the reference implementation
/// (thuml Transfer-Learning-Library, <c>tllib/regularization/bi_tuning.py</c> and its training script) does.
/// Shapes: B = batch, C = classes, K = keys per class, D = projection dim, F = pooled feature dim.
/// Both terms build, per query, one row of 1 + C·K logits — column 0 the query's own positive, then every
/// queued key in class-major order — divide by τ (reference 0.07), take log-softmax, and compare with a target
/// that puts 1/(K+1) on the own column and on the K queued columns of the query's class, 0 elsewhere, by
/// KL(target ‖ softmax) averaged over the batch (PyTorch's <c>KLDivLoss(reduction='batchmean')</c>):
///   L = (1/B) Σ_i [ −log(K+1) − (1/(K+1)) Σ_{p ∈ P_i} log softmax(row_i / τ)_p ].
/// The order of the negatives inside a row does not change the value, so the rows are built without the
/// reference's per-sample loops.
/// </summary>
public static class BiTuningLosses
{
    /// <summary>
    /// Projector head, categorical contrastive term: query z_q [B, D] against its own key z_k [B, D] and the
    /// z-queue [C, K, D] as it was before this batch was enqueued (all L2-normalised). Gradient reaches z_q only.
    /// </summary>
    public static Tensor ProjectorContrastive(Tensor zQuery, Tensor zKey, Tensor queueZ, Tensor labels, double temperature = 0.07)
    {
        using var scope = NewDisposeScope();
        CheckQueue(queueZ, zQuery, labels);
        var own = (zQuery * zKey.detach()).sum(1, keepdim: true);                              // [B, 1]
        var queued = zQuery.matmul(queueZ.detach().reshape(-1, queueZ.shape[2]).t());          // [B, C·K]
        return PositivesKl(own, queued, labels, queueZ.shape[1], temperature).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Classifier head, contrastive cross-entropy term: the anchor is the class prototype w_c = normalize([W_c, b_c])
    /// of the query's label c (the head's weights are detached, as in the reference, so this term trains the
    /// features, not the head); positives are the query's own hn = normalize([h, 1]) [B, F+1] and the K queued
    /// h-keys of class c; negatives the other classes' h-keys. queueH [C, K, F+1] is the queue after this
    /// batch's keys were enqueued (the reference computes this term after its enqueue loop).
    /// </summary>
    public static Tensor ClassifierContrastive(Tensor hnQuery, Tensor headWeight, Tensor headBias, Tensor queueH, Tensor labels, double temperature = 0.07)
    {
        using var scope = NewDisposeScope();
        CheckQueue(queueH, hnQuery, labels);
        if (headWeight.shape[0] != queueH.shape[0] || headWeight.shape[1] + 1 != hnQuery.shape[1])
            throw new ArgumentException($"head [{string.Join(", ", headWeight.shape)}] does not fit {queueH.shape[0]} classes and features of dim {hnQuery.shape[1]} (= F + 1).");
        var prototypes = nn.functional.normalize(cat([headWeight.detach(), headBias.detach().unsqueeze(1)], 1), dim: 1);   // [C, F+1]
        var own = hnQuery.matmul(prototypes.t()).gather(1, labels.unsqueeze(1));                                            // [B, 1]
        var queueVsPrototype = queueH.detach().reshape(-1, queueH.shape[2]).matmul(prototypes.t());                         // [C·K, C]
        var queued = queueVsPrototype.t().index_select(0, labels);                                                           // [B, C·K]: keys against w_{label}
        return PositivesKl(own, queued, labels, queueH.shape[1], temperature).MoveToOuterDisposeScope();
    }

    /// <summary>KL(target ‖ softmax(row/τ)), batch mean; row = [own | queued (class-major)], target 1/(K+1) on own and the label's K columns.</summary>
    public static Tensor PositivesKl(Tensor own, Tensor queued, Tensor labels, long perClass, double temperature)
    {
        using var scope = NewDisposeScope();
        var logProb = nn.functional.log_softmax(cat([own, queued], 1) / temperature, 1);                                   // [B, 1 + C·K]
        var columnClass = arange(queued.shape[1], dtype: ScalarType.Int64, device: queued.device).div(perClass, rounding_mode: RoundingMode.floor);
        var positive = cat([ones(own.shape[0], 1, dtype: ScalarType.Bool, device: own.device), columnClass.unsqueeze(0).eq(labels.unsqueeze(1))], 1);
        var weight = 1.0 / (perClass + 1);
        var perItem = -Math.Log(perClass + 1) - weight * logProb.masked_fill(positive.logical_not(), 0).sum(1);
        return perItem.mean().MoveToOuterDisposeScope();
    }

    private static void CheckQueue(Tensor queue, Tensor query, Tensor labels)
    {
        if (queue.dim() != 3 || query.dim() != 2 || queue.shape[2] != query.shape[1])
            throw new ArgumentException($"queue [{string.Join(", ", queue.shape)}] must be [C, K, D] with D = the query's dim ({string.Join(", ", query.shape)}).");
        if (labels.dim() != 1 || labels.shape[0] != query.shape[0])
            throw new ArgumentException($"labels [{string.Join(", ", labels.shape)}] must be [B] with B = {query.shape[0]}.");
    }
}
