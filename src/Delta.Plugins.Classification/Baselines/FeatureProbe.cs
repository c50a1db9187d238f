using Delta.Abstractions.Training;
using Delta.Abstractions.Backbones;
using Delta.Data.Loading;
using Delta.Plugins.Classification.Metrics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Baselines;

/// <summary>
/// A linear head on frozen pooled features (no Δ): the base task's φ_S (a linear probe, since the real pretrained
/// ResNet-18 has no ImageNet head) and the FC-only baseline. Features are computed once — legitimate here because
/// nothing before the head trains — and the head is trained for the same epochs and batch size as the Δ runs.
/// </summary>
public static class FeatureProbe
{
    public sealed record Features(Tensor X, Tensor Y) : IDisposable
    {
        public void Dispose() { X.Dispose(); Y.Dispose(); }
    }

    public static Features Extract(IDeltaBackbone backbone, BatchLoader loader)
    {
        var xs = new List<Tensor>(); var ys = new List<Tensor>();
        using var noGrad = no_grad();
        backbone.Train(false);
        foreach (var b in loader.Epoch(0))
            using (b)
            {
                xs.Add(backbone.Forward(b.Images).Pooled.detach().DetachFromDisposeScope());
                ys.Add(b.Labels.clone().DetachFromDisposeScope());
            }
        try { return new Features(cat(xs.ToArray()).DetachFromDisposeScope(), cat(ys.ToArray()).DetachFromDisposeScope()); }
        finally { foreach (var t in xs.Concat(ys)) t.Dispose(); }
    }

    /// <summary>Trains <paramref name="head"/> (AdamW, cosine) on cached features; returns the loss per epoch.</summary>
    public static List<double> Train(Linear head, Features train, int epochs, int batchSize, double lr, double weightDecay, int seed)
    {
        using var log = new DeviceScalarLog();                      // losses stay on the device: one transfer at the end
        var batchesPerEpoch = new List<int>();
        using var opt = optim.AdamW(head.parameters(), lr, weight_decay: weightDecay);
        var n = (int)train.X.shape[0];
        var steps = epochs * ((n + batchSize - 1) / batchSize);
        long step = 0;
        var gen = new Generator((ulong)seed);
        head.train();
        for (int e = 0; e < epochs; e++)
        {
            using var perm = randperm(n, generator: gen).to(train.X.device);
            int count = 0;
            for (int s = 0; s < n; s += batchSize)
            {
                using var scope = NewDisposeScope();
                foreach (var g in opt.ParamGroups) g.LearningRate = lr * 0.5 * (1 + Math.Cos(Math.PI * step / steps));
                var idx = perm.narrow(0, s, Math.Min(batchSize, n - s));
                opt.zero_grad();
                var loss = nn.functional.cross_entropy(head.call(train.X.index_select(0, idx)), train.Y.index_select(0, idx));
                loss.backward();
                opt.step();
                log.Add(loss); count++; step++;
            }
            batchesPerEpoch.Add(count);
        }
        head.eval();
        var all = log.ReadAll();
        var losses = new List<double>(epochs);
        var offset = 0;
        foreach (var c in batchesPerEpoch) { losses.Add(all.Skip(offset).Take(c).Average()); offset += c; }
        return losses;
    }

    public static Evaluation Evaluate(Linear head, Features data)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var predicted = head.call(data.X).argmax(1).cpu().data<long>().ToArray().Select(v => (int)v).ToArray();
        var truth = data.Y.cpu().data<long>().ToArray().Select(v => (int)v).ToArray();
        return new Evaluation(predicted, truth, ClassificationMetrics.Top1(predicted, truth));
    }
}
