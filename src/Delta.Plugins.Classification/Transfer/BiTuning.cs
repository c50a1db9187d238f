using Delta.Plugins.Classification.Losses;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Transfer;

/// <summary>
/// Bi-Tuning (Zhong et al. 2020) around a query encoder (the model being trained) and a key encoder that is never
/// trained by gradients: it follows the query's trainable parts by momentum. Per class, two queues of K keys from
/// the key encoder: h-keys normalize([h, 1]) [C, K, F+1] and projector keys z [C, K, D].
/// One training step (<see cref="Losses"/>) does what the reference's <c>BiTuning.forward</c> and training loop do:
/// momentum update of the key encoder, key features of the second view without autograd, projector contrastive
/// term on the queue as it was, enqueue of this batch's keys, classifier contrastive term on the updated queue,
/// and cross entropy on the query's logits. Loss = ce + trade-off · (projector term + classifier term).
/// With a frozen-base Δ backbone the two encoders share the frozen base; only Δ-modules, heads and projector
/// differ, and the key's copies of those are the momentum average of the query's.
/// </summary>
public sealed class BiTuning : IDisposable
{
    private readonly MomentumUpdate momentum;

    public BiTuning(BiTuningEncoder query, BiTuningEncoder key, int classes, BiTuningSettings settings, long seed)
    {
        var problems = settings.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException("Bi-Tuning: " + string.Join(" ", problems));
        if (ReferenceEquals(query, key)) throw new ArgumentException("Bi-Tuning needs two encoders (query and key).");
        Query = query; Key = key; Settings = settings;
        foreach (var (_, p) in key.OwnParameters()) p.requires_grad = false;                // keys get no gradient, ever
        momentum = new MomentumUpdate(settings.Momentum, query.OwnParameters().Where(p => p.Parameter.requires_grad), key.OwnParameters());
        momentum.CopyQueryToKey();
        var device = query.Classifier.Backbone.Device;
        using var generator = new Generator(unchecked((ulong)seed));
        QueueH = new ClassKeyQueue(classes, settings.KeysPerClass, query.Classifier.Backbone.NumFeatures + 1, generator, device);
        QueueZ = new ClassKeyQueue(classes, settings.KeysPerClass, settings.ProjectionDim, generator, device);
    }

    public BiTuningEncoder Query { get; }
    public BiTuningEncoder Key { get; }
    public BiTuningSettings Settings { get; }
    public ClassKeyQueue QueueH { get; }
    public ClassKeyQueue QueueZ { get; }
    /// <summary>Number of parameter tensors the key encoder follows by momentum.</summary>
    public int FollowedParameters => momentum.Count;

    /// <summary>The reference runs both encoders in the same mode (its <c>bituning.train()</c>); the shared frozen base stays in eval regardless.</summary>
    public void SetTrainMode(bool mode) { Query.SetTrainMode(mode); Key.SetTrainMode(mode); }

    /// <summary>Named losses of one step on two views of the same images: query view [B, 3, H, W], key view [B, 3, H, W], labels [B]
    /// and, when the caller has them, the same labels on the host (the per-class queues index by them; without them
    /// they are read back from the device, a host wait per step on a GPU).</summary>
    public IReadOnlyDictionary<string, Tensor> Losses(Tensor queryView, Tensor keyView, Tensor labels, long[]? hostLabels = null)
    {
        if (hostLabels is not null && hostLabels.Length != labels.shape[0])
            throw new ArgumentException($"{hostLabels.Length} host labels for a batch of {labels.shape[0]}.", nameof(hostLabels));
        using var scope = NewDisposeScope();
        var (logits, zQuery, hnQuery) = Query.Forward(queryView);
        Tensor zKey, hnKey;
        using (no_grad())
        {
            momentum.Step();
            (_, zKey, hnKey) = Key.Forward(keyView);
        }
        // Snapshot: the enqueue below writes into the queue in place, and autograd keeps what the matmul saw.
        var queueZBefore = QueueZ.Keys.clone();
        var projector = BiTuningLosses.ProjectorContrastive(zQuery, zKey, queueZBefore, labels, Settings.Temperature);
        var labelArray = hostLabels ?? labels.cpu().data<long>().ToArray();
        QueueH.Enqueue(hnKey, labelArray);
        QueueZ.Enqueue(zKey, labelArray);
        var classifier = BiTuningLosses.ClassifierContrastive(hnQuery, Query.Classifier.Head.weight!, Query.Classifier.Head.bias!, QueueH.Keys.clone(), labels, Settings.Temperature);
        var losses = new Dictionary<string, Tensor>
        {
            ["ce"] = nn.functional.cross_entropy(logits, labels).MoveToOuterDisposeScope(),
            ["contrastive_z"] = (projector * Settings.TradeOff).MoveToOuterDisposeScope(),
            ["contrastive_y"] = (classifier * Settings.TradeOff).MoveToOuterDisposeScope(),
        };
        return losses;
    }

    /// <summary>Frees the queues and both encoders (Bi-Tuning owns them).</summary>
    public void Dispose() { QueueH.Dispose(); QueueZ.Dispose(); Key.Dispose(); Query.Dispose(); }
}
