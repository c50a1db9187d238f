using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Transfer;

/// <summary>
/// The key encoder's momentum update (MoCo, used by Bi-Tuning): for each pair, k ← m·k + (1 − m)·q, in place,
/// without autograd. Pairs are matched by name, so the key encoder follows exactly the query's trainable parts.
/// </summary>
public sealed class MomentumUpdate
{
    private readonly (Parameter Key, Parameter Query)[] pairs;

    public MomentumUpdate(double momentum, IEnumerable<(string Name, Parameter Parameter)> query, IEnumerable<(string Name, Parameter Parameter)> key)
    {
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), $"momentum must be in [0, 1] (got {momentum}).");
        Momentum = momentum;
        var keys = key.ToDictionary(p => p.Name, p => p.Parameter, StringComparer.Ordinal);
        var list = new List<(Parameter, Parameter)>();
        foreach (var (name, q) in query)
        {
            if (!keys.TryGetValue(name, out var k)) throw new ArgumentException($"The key encoder has no parameter '{name}'.");
            if (!k.shape.SequenceEqual(q.shape))
                throw new ArgumentException($"'{name}' is [{string.Join(", ", q.shape)}] in the query encoder but [{string.Join(", ", k.shape)}] in the key encoder.");
            if (ReferenceEquals(k, q)) throw new ArgumentException($"'{name}' is the same tensor in both encoders: the key encoder needs its own copy.");
            list.Add((k, q));
        }
        if (list.Count == 0) throw new ArgumentException("No parameters to follow: the query encoder has no trainable parameters.");
        pairs = list.ToArray();
    }

    public double Momentum { get; }
    public int Count => pairs.Length;

    /// <summary>Copies the query's values into the key encoder (k ← q), as the reference does once at start.</summary>
    public void CopyQueryToKey()
    {
        using var noGrad = no_grad();
        foreach (var (k, q) in pairs) k.copy_(q);
    }

    public void Step()
    {
        using var noGrad = no_grad();
        foreach (var (k, q) in pairs) k.mul_(Momentum).add_(q, alpha: 1 - Momentum);
    }
}
