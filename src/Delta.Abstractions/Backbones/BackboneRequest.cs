using TorchSharp;

namespace Delta.Abstractions.Backbones;

/// <summary>
/// What a task asks the registry for. <see cref="Architecture"/> is a registry name (see
/// <see cref="IBackboneRegistry.Architectures"/>); <see cref="Weights"/> is "imagenet" (the real
/// pretrained weights, where the architecture has them), "random" (deterministic seeded init, so the
/// base hash is reproducible across processes), or a path to a weights file (.dat, .safetensors,
/// .pth/.pt/.bin state dict). <see cref="OutputStride"/> 8 or 16 dilates the last stages of
/// Bottleneck ResNets (DeepLab); 32 = undilated.
/// <see cref="TrainableBase"/> = true gives a private, trainable copy of the base instead of the
/// shared frozen one: for full fine-tuning baselines only (no zero-drop guarantee).
/// </summary>
public sealed record BackboneRequest
{
    public required string Architecture { get; init; }
    public string Weights { get; init; } = "random";
    public DeltaConfig Delta { get; init; } = new();
    public torch.Device Device { get; init; } = torch.CPU;
    public int OutputStride { get; init; } = 32;
    public bool TrainableBase { get; init; }
    /// <summary>Seed for the Δ-modules' initialisation (the base never depends on it).</summary>
    public long Seed { get; init; }
    /// <summary>Float32 (default, exact) or the BFloat16 fast mode for the frozen base (see <see cref="BackbonePrecision"/>).
    /// Not combinable with <see cref="TrainableBase"/>: the fast mode needs a frozen base.</summary>
    public BackbonePrecision Precision { get; init; } = BackbonePrecision.Float32;
    /// <summary>Fast mode only: the bf16 base copy's convolution weights and the input get channels-last
    /// (NHWC) strides, which lets libtorch pick its channels-last kernels (TorchSharp 0.107 has no memory-format API).</summary>
    public bool ChannelsLast { get; init; }

    /// <summary>Problems with the precision settings, in words (empty when valid).</summary>
    public IEnumerable<string> ValidatePrecision()
    {
        if (Precision != BackbonePrecision.Float32 && TrainableBase)
            yield return $"precision {Precision} needs a frozen base; full fine-tuning (TrainableBase) runs in Float32 only.";
        if (ChannelsLast && Precision == BackbonePrecision.Float32)
            yield return "channels-last applies to the bf16 fast copy of the base only; set Precision = BFloat16.";
    }
}
