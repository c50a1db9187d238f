using static TorchSharp.torch;

namespace Delta.Abstractions.Training;

/// <summary>
/// Scalars produced inside a loop (a loss per step, a correct-count per batch), kept on their device and read in
/// one transfer at the end: calling <c>.item()</c> each step would make the host wait for the device every time
/// (on CUDA that stalls the queue of asynchronous kernels). Each added value is detached and copied out of the
/// caller's dispose scope, so the loop body can still dispose everything else.
/// </summary>
public sealed class DeviceScalarLog : IDisposable
{
    private readonly List<Tensor> values = [];

    public int Count => values.Count;

    /// <summary>Keeps a detached copy of <paramref name="scalar"/> (one element, any shape, any device).</summary>
    public void Add(Tensor scalar)
    {
        if (scalar.numel() != 1) throw new ArgumentException($"Expected a one-element tensor, got shape [{string.Join(", ", scalar.shape)}].");
        // to_type(copy: true): a float64 input would otherwise come back as a view of the caller's tensor, and an
        // in-place update of it (a running counter) would rewrite the logged value.
        values.Add(scalar.detach().reshape(1).to_type(ScalarType.Float64, copy: true).DetachFromDisposeScope());
    }

    /// <summary>All values in the order added, in one device→host copy. The log stays usable.</summary>
    public double[] ReadAll()
    {
        if (values.Count == 0) return [];
        using var scope = NewDisposeScope();
        return cat(values.ToArray()).cpu().data<double>().ToArray();
    }

    public void Dispose()
    {
        foreach (var v in values) v.Dispose();
        values.Clear();
    }
}
