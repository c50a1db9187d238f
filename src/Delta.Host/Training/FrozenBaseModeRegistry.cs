using Delta.Abstractions.Backbones;

namespace Delta.Host.Training;

/// <summary>
/// `--fused` / `--fast` on train, eval and predict: hands plugins a registry that turns each frozen-base request that
/// asked for the exact fp32 mode into the chosen <see cref="FrozenBaseMode"/>, so no plugin needs a flag of its own.
/// Requests for a trainable base (full fine-tuning baselines) and requests that already chose a mode pass unchanged.
/// Patches are unaffected: the Δ-modules stay fp32 and the base identity is the fp32 base's, so a patch trained in
/// one mode evaluates in any other.
/// </summary>
public sealed class FrozenBaseModeRegistry(IBackboneRegistry inner, FrozenBaseMode mode) : IBackboneRegistry
{
    public FrozenBaseMode Mode => mode;

    public IReadOnlyList<BackboneInfo> Architectures => inner.Architectures;

    public IDeltaBackbone Create(BackboneRequest request) => inner.Create(Apply(request, mode));

    public BaseIdentity Resolve(BackboneRequest request) => inner.Resolve(request);

    public (long BaseParameters, long DeltaParameters) CountParameters(string architecture, DeltaConfig delta) => inner.CountParameters(architecture, delta);

    public static BackboneRequest Apply(BackboneRequest request, FrozenBaseMode mode)
    {
        if (mode == FrozenBaseMode.Exact || request.TrainableBase || !request.IsExact) return request;
        var bf16 = mode is FrozenBaseMode.Fast or FrozenBaseMode.FastDeltaBf16 or FrozenBaseMode.FastAutocast;
        var deltaConvolutionsBf16 = mode is FrozenBaseMode.FastDeltaBf16 or FrozenBaseMode.FastAutocast;
        return request with
        {
            Precision = bf16 ? BackbonePrecision.BFloat16 : BackbonePrecision.Float32,
            ChannelsLast = true,
            FoldBatchNorm = true,
            // Only Δ_s has convolutions; the other gate sources keep theirs as asked.
            DeltaConvolutions = deltaConvolutionsBf16 && request.Delta.Variant == DeltaVariant.Delta
                ? BackbonePrecision.BFloat16 : request.DeltaConvolutions,
            DeltaSkipSums = mode == FrozenBaseMode.FastAutocast ? BackbonePrecision.BFloat16 : request.DeltaSkipSums,
        };
    }
}
