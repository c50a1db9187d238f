using Delta.Plugins.Classification.Transfer;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Tests.Transfer;

public class MomentumUpdateTests
{
    private static Linear Tiny(float w0, float w1, float b)
    {
        var m = nn.Linear(2, 1);
        using var noGrad = no_grad();
        m.weight!.copy_(tensor(new[] { w0, w1 }).reshape(1, 2));
        m.bias!.copy_(tensor(new[] { b }));
        return m;
    }

    private static IEnumerable<(string, Parameter)> Named(Linear m) => m.named_parameters().Select(p => (p.name, p.parameter));

    [Fact]
    public void Key_becomes_m_times_key_plus_one_minus_m_times_query()
    {
        using var query = Tiny(1, 2, -1);
        using var key = Tiny(3, 4, 5);
        var update = new MomentumUpdate(0.9, Named(query), Named(key));
        Assert.Equal(2, update.Count);
        update.Step();
        // k ← 0.9·k + 0.1·q:  (0.9·3 + 0.1·1, 0.9·4 + 0.1·2) = (2.8, 3.8);  0.9·5 + 0.1·(−1) = 4.4
        Assert.Equal([2.8f, 3.8f], key.weight!.data<float>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(4.4f, key.bias!.item<float>(), 5);
        update.Step();
        Assert.Equal(0.9 * 2.8 + 0.1 * 1, key.weight![0, 0].item<float>(), 5);
        Assert.Equal([1f, 2f], query.weight!.data<float>().ToArray());            // the query is only read
    }

    [Fact]
    public void Copy_then_follow_and_refuse_mismatched_encoders()
    {
        using var query = Tiny(1, 2, 3);
        using var key = Tiny(0, 0, 0);
        new MomentumUpdate(0.999, Named(query), Named(key)).CopyQueryToKey();
        Assert.True(key.weight!.Equals(query.weight!));
        using var wide = nn.Linear(3, 1);
        Assert.Throws<ArgumentException>(() => new MomentumUpdate(0.9, Named(query), wide.named_parameters().Select(p => (p.name, p.parameter))));
        Assert.Throws<ArgumentException>(() => new MomentumUpdate(0.9, Named(query), Named(query)));      // same tensors: no key copy
        Assert.Throws<ArgumentOutOfRangeException>(() => new MomentumUpdate(1.5, Named(query), Named(key)));
    }
}
