using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Losses;

/// <summary>
/// Bi-Tuning's per-class key queues: K keys per class ([C, K, D], L2-normalised, reference K = 40), filled
/// first-in-first-out from the momentum encoder's keys of that class. Starts with random unit keys, as the
/// reference implementation does.
/// </summary>
public sealed class ClassKeyQueue : IDisposable
{
    private readonly int[] pointer;

    public ClassKeyQueue(int classes, int perClass, int dim, Generator generator, Device? device = null)
    {
        if (classes < 1 || perClass < 1 || dim < 1) throw new ArgumentException($"ClassKeyQueue needs classes, perClass, dim ≥ 1 (got {classes}, {perClass}, {dim}).");
        using var scope = NewDisposeScope();
        Keys = nn.functional.normalize(randn(new long[] { classes, perClass, dim }, generator: generator).to(device ?? CPU), dim: 2).MoveToOuterDisposeScope();
        Keys.DetachFromDisposeScope();
        pointer = new int[classes];
        Classes = classes; PerClass = perClass; Dim = dim;
    }

    public int Classes { get; }
    public int PerClass { get; }
    public int Dim { get; }
    /// <summary>[C, K, D].</summary>
    public Tensor Keys { get; }

    /// <summary>Pushes keys [B, D] (detached) into their classes' queues, oldest replaced first.</summary>
    public void Enqueue(Tensor keys, long[] labels)
    {
        if (keys.shape[0] != labels.Length) throw new ArgumentException($"{keys.shape[0]} keys but {labels.Length} labels.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var k = keys.detach();
        for (int b = 0; b < labels.Length; b++)
        {
            var c = (int)labels[b];
            Keys[c, pointer[c]].copy_(k[b]);
            pointer[c] = (pointer[c] + 1) % PerClass;
        }
    }

    public void Dispose() => Keys.Dispose();
}
