using Delta.Plugins.Classification.Losses;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Tests.Losses;

public class BiTuningLossesTests
{
    // One query q = (1, 0), own key k = (1, 0); queue of C = 2 classes × K = 1 key: class 0 (0, 1), class 1 (−1, 0); τ = 1.
    // Row of logits: [q·k, q·a0, q·a1] = [1, 0, −1].  Z = e¹ + e⁰ + e⁻¹ = 4.0861613.
    // KL(target ‖ softmax) with target ½ on the two positives: −log 2 − ½ Σ_pos log softmax.
    private static readonly Tensor Q = tensor(new float[] { 1, 0 }).reshape(1, 2);
    private static readonly Tensor K = tensor(new float[] { 1, 0 }).reshape(1, 2);
    private static readonly Tensor Queue = tensor(new float[] { 0, 1, -1, 0 }).reshape(2, 1, 2);
    private static readonly double Z = Math.E + 1 + 1 / Math.E;

    [Fact]
    public void Projector_term_is_KL_to_uniform_over_own_key_and_same_class_queue()
    {
        using var label0 = tensor(new long[] { 0 });
        using var loss0 = BiTuningLosses.ProjectorContrastive(Q, K, Queue, label0, temperature: 1);
        // positives: own key (logit 1) and the class-0 key (logit 0)
        Assert.Equal(-Math.Log(2) - 0.5 * (Math.Log(Math.E / Z) + Math.Log(1 / Z)), loss0.item<float>(), 5);      // 0.2144586
        using var label1 = tensor(new long[] { 1 });
        using var loss1 = BiTuningLosses.ProjectorContrastive(Q, K, Queue, label1, temperature: 1);
        Assert.Equal(-Math.Log(2) - 0.5 * (Math.Log(Math.E / Z) + Math.Log(1 / Math.E / Z)), loss1.item<float>(), 5);
    }

    [Fact]
    public void Temperature_divides_the_logits()
    {
        using var label0 = tensor(new long[] { 0 });
        using var loss = BiTuningLosses.ProjectorContrastive(Q, K, Queue, label0, temperature: 0.5);
        // logits [2, 0, −2]
        var z = Math.Exp(2) + 1 + Math.Exp(-2);
        Assert.Equal(-Math.Log(2) - 0.5 * (Math.Log(Math.Exp(2) / z) + Math.Log(1 / z)), loss.item<float>(), 5);
    }

    [Fact]
    public void Classifier_term_compares_the_label_prototype_with_query_and_queued_features()
    {
        // Head: W = [[1], [0]], b = [0, 1] ⇒ prototypes w0 = (1, 0), w1 = (0, 1) after normalising [W_c, b_c].
        // hn_q = (1, 0); h-queue: class 0 key (0, 1), class 1 key (1, 0).
        using var hn = tensor(new float[] { 1, 0 }).reshape(1, 2).requires_grad_(true);
        using var weight = tensor(new float[] { 1, 0 }).reshape(2, 1).requires_grad_(true);
        using var bias = tensor(new float[] { 0, 1 }).requires_grad_(true);
        using var queueH = tensor(new float[] { 0, 1, 1, 0 }).reshape(2, 1, 2);
        using var label0 = tensor(new long[] { 0 });
        using var loss = BiTuningLosses.ClassifierContrastive(hn, weight, bias, queueH, label0, temperature: 1);
        // Row for prototype w0: [hn·w0, key0·w0, key1·w0] = [1, 0, 1]; positives: columns 0 and 1.
        var z = 2 * Math.E + 1;
        Assert.Equal(-Math.Log(2) - 0.5 * (Math.Log(Math.E / z) + Math.Log(1 / z)), loss.item<float>(), 5);
        loss.backward();
        Assert.NotNull(hn.grad);
        Assert.True(hn.grad!.abs().sum().item<float>() > 0);
        Assert.Null(weight.grad);                                                 // the reference uses head.weight.data: the head gets no gradient from this term
        Assert.Null(bias.grad);
    }

    [Fact]
    public void Queue_replaces_the_oldest_key_of_the_right_class()
    {
        using var g = new Generator(1);
        using var queue = new ClassKeyQueue(2, 2, 3, g);
        using var keys = tensor(new float[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }).reshape(3, 3);
        queue.Enqueue(keys, [1, 1, 1]);
        Assert.True(queue.Keys[1, 0].Equals(keys[2]));                           // third key wrapped onto slot 0
        Assert.True(queue.Keys[1, 1].Equals(keys[1]));
        Assert.InRange(queue.Keys[0, 0].norm().item<float>(), 0.999f, 1.001f);   // class 0 untouched, still unit
    }

    [Fact]
    public void Queue_routes_a_mixed_batch_to_each_label_and_keeps_other_classes()
    {
        using var g = new Generator(2);
        using var queue = new ClassKeyQueue(3, 2, 2, g);
        using var before = queue.Keys.clone();
        using var keys = tensor(new float[] { 1, 0, 0, 1, -1, 0 }).reshape(3, 2);
        queue.Enqueue(keys, [2, 0, 2]);
        Assert.True(queue.Keys[0, 0].Equals(keys[1]));
        Assert.True(queue.Keys[0, 1].Equals(before[0, 1]));                      // class 0 got one key: slot 1 still the old one
        Assert.True(queue.Keys[2, 0].Equals(keys[0]));
        Assert.True(queue.Keys[2, 1].Equals(keys[2]));
        Assert.True(queue.Keys[1].Equals(before[1]));                            // class 1 untouched
    }
}
