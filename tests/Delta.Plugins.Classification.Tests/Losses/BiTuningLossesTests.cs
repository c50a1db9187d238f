using Delta.Plugins.Classification.Losses;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Tests.Losses;

public class BiTuningLossesTests
{
    // One query q = (1, 0), own key k = (1, 0); queue of C = 2 classes × K = 1 key: class 0 (0, 1), class 1 (−1, 0); τ = 1.
    // Logits: q·k = 1, q·a0 = 0, q·a1 = −1.  Z = e¹ + e⁰ + e⁻¹ = 4.0861613.
    private static readonly Tensor Q = tensor(new float[] { 1, 0 }).reshape(1, 2);
    private static readonly Tensor K = tensor(new float[] { 1, 0 }).reshape(1, 2);
    private static readonly Tensor Queue = tensor(new float[] { 0, 1, -1, 0 }).reshape(2, 1, 2);
    private static readonly double Z = Math.E + 1 + 1 / Math.E;

    [Fact]
    public void Unsupervised_loss_matches_hand_computation()
    {
        using var loss = BiTuningLosses.Unsupervised(Q, K, Queue, temperature: 1);
        Assert.Equal(-Math.Log(Math.E / Z), loss.item<float>(), 5);             // 0.40760596
    }

    [Fact]
    public void Categorical_loss_averages_over_own_key_and_same_class_queue()
    {
        using var label0 = tensor(new long[] { 0 });
        using var loss0 = BiTuningLosses.Categorical(Q, K, Queue, label0, temperature: 1);
        // positives: own key (logit 1) and class-0 key (logit 0): −½(log(e/Z) + log(1/Z))
        Assert.Equal(-0.5 * (Math.Log(Math.E / Z) + Math.Log(1 / Z)), loss0.item<float>(), 5);
        using var label1 = tensor(new long[] { 1 });
        using var loss1 = BiTuningLosses.Categorical(Q, K, Queue, label1, temperature: 1);
        Assert.Equal(-0.5 * (Math.Log(Math.E / Z) + Math.Log(1 / Math.E / Z)), loss1.item<float>(), 5);
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
}
