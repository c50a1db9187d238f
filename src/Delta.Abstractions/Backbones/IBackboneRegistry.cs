namespace Delta.Abstractions.Backbones;

/// <summary>
/// The front door to backbones. <see cref="Create"/> resolves the shared frozen base for
/// (architecture, weights, output stride, device), creating and caching it on first use, and wraps it with new
/// Δ-modules for the caller: memory grows by the Δ-modules per task, not by a model copy.
/// Unknown names throw <see cref="ArgumentException"/> listing the valid ones.
/// </summary>
public interface IBackboneRegistry
{
    IReadOnlyList<BackboneInfo> Architectures { get; }
    IDeltaBackbone Create(BackboneRequest request);
    /// <summary>Identity of the base that <paramref name="request"/> resolves to (loads it if needed).</summary>
    BaseIdentity Resolve(BackboneRequest request);
    /// <summary>Parameter counts without building a task: total base, Δ-modules for the given config.</summary>
    (long BaseParameters, long DeltaParameters) CountParameters(string architecture, DeltaConfig delta);
}
