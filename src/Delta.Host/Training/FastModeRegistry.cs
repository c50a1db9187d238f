using Delta.Abstractions.Backbones;

namespace Delta.Host.Training;

/// <summary>
/// `delta train --fast`: hands plugins a registry that turns each frozen-base request that asked for the exact fp32
/// mode into the bf16 fast mode with channels-last and BatchNorms folded into the convolutions
/// (<see cref="BackbonePrecision.BFloat16"/>), so no plugin needs a flag of its own. Requests for a trainable base (full fine-tuning baselines) stay fp32, since the fast mode needs a
/// frozen base. Patches are unaffected: the Δ-modules stay fp32 and the base identity is the fp32 base's.
/// With <paramref name="deltaConvolutionsInBf16"/> (<c>--delta-bf16</c>) the Δ_s convolutions of those requests also
/// compute in bf16 (<see cref="BackboneRequest.DeltaConvolutions"/>).
/// </summary>
public sealed class FastModeRegistry(IBackboneRegistry inner, bool deltaConvolutionsInBf16 = false) : IBackboneRegistry
{
    public IReadOnlyList<BackboneInfo> Architectures => inner.Architectures;

    public IDeltaBackbone Create(BackboneRequest request) => inner.Create(Fast(request, deltaConvolutionsInBf16));

    public BaseIdentity Resolve(BackboneRequest request) => inner.Resolve(request);

    public (long BaseParameters, long DeltaParameters) CountParameters(string architecture, DeltaConfig delta) => inner.CountParameters(architecture, delta);

    public static BackboneRequest Fast(BackboneRequest request, bool deltaConvolutionsInBf16 = false) =>
        request.TrainableBase || !request.IsExact
            ? request
            : request with
            {
                Precision = BackbonePrecision.BFloat16, ChannelsLast = true, FoldBatchNorm = true,
                DeltaConvolutions = deltaConvolutionsInBf16 && request.Delta.Variant == DeltaVariant.Delta ? BackbonePrecision.BFloat16 : request.DeltaConvolutions,
            };
}
