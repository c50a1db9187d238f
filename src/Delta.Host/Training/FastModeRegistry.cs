using Delta.Abstractions.Backbones;

namespace Delta.Host.Training;

/// <summary>
/// `delta train --fast`: hands plugins a registry that turns each frozen-base request that asked for the exact fp32
/// mode into the bf16 fast mode with channels-last (<see cref="BackbonePrecision.BFloat16"/>), so no plugin needs a
/// flag of its own. Requests for a trainable base (full fine-tuning baselines) stay fp32, since the fast mode needs a
/// frozen base. Patches are unaffected: the Δ-modules stay fp32 and the base identity is the fp32 base's.
/// </summary>
public sealed class FastModeRegistry(IBackboneRegistry inner) : IBackboneRegistry
{
    public IReadOnlyList<BackboneInfo> Architectures => inner.Architectures;

    public IDeltaBackbone Create(BackboneRequest request) => inner.Create(Fast(request));

    public BaseIdentity Resolve(BackboneRequest request) => inner.Resolve(request);

    public (long BaseParameters, long DeltaParameters) CountParameters(string architecture, DeltaConfig delta) => inner.CountParameters(architecture, delta);

    public static BackboneRequest Fast(BackboneRequest request) =>
        request.TrainableBase || request.Precision != BackbonePrecision.Float32
            ? request
            : request with { Precision = BackbonePrecision.BFloat16, ChannelsLast = true };
}
