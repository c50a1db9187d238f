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
    /// <summary>The frozen base runs on a copy whose convolution weights, like the input, have channels-last (NHWC)
    /// strides, which lets libtorch pick its channels-last kernels (TorchSharp 0.107 has no memory-format API). In fp32
    /// this changes the summation order inside the convolutions, so outputs differ from the exact base in the last bits.</summary>
    public bool ChannelsLast { get; init; }
    /// <summary>The frozen base runs on a copy with each BatchNorm folded into the convolution before it (what ONNX
    /// Runtime does to the same graph): one op less per conv, outputs equal to the exact base up to fp32 rounding.</summary>
    public bool FoldBatchNorm { get; init; }

    /// <summary>What the Δ-modules' (Δ_s) two 3x3 convolutions compute in. Float32 (default) or BFloat16: bf16 casts of
    /// the fp32 weights and input, as PyTorch's autocast runs a conv; the Δ parameters, their gradients and optimizer
    /// state, the BNs, gates, skip sums and heads stay fp32, and patches are the same either way. Only for
    /// <see cref="DeltaVariant.Delta"/> (the other gate sources have no convolutions).</summary>
    public BackbonePrecision DeltaConvolutions { get; init; } = BackbonePrecision.Float32;

    /// <summary>What the Δ-stages' gated skip sums compute in: S_j = Σ λ_{i,j} n_i, its BatchNorm and h_j = B_j(h_{j−1}) +
    /// BN_j(S_j). Float32 (default): every frozen block's output is cast up and the O(k²) full-resolution passes run in
    /// fp32. BFloat16, with a bf16 frozen base only: the block outputs stay bf16, the gates are cast to bf16 for the
    /// products, each skip BN normalises its bf16 input with fp32 parameters and statistics, and the stage output is cast
    /// to fp32 — what PyTorch's bf16 autocast does to the same network. It halves those passes' bytes, which bound a
    /// Δ(4) step on a GPU (docs/PERFORMANCE.md, "Memory traffic"); gradients and optimizer state stay fp32, and patches
    /// are the same either way.</summary>
    public BackbonePrecision DeltaSkipSums { get; init; } = BackbonePrecision.Float32;

    /// <summary>True when the frozen base runs exactly as loaded (fp32, contiguous, unfolded): the zero-drop mode.</summary>
    public bool IsExact => Precision == BackbonePrecision.Float32 && !ChannelsLast && !FoldBatchNorm;

    /// <summary>Problems with the precision settings, in words (empty when valid).</summary>
    public IEnumerable<string> ValidatePrecision()
    {
        if (!IsExact && TrainableBase)
            yield return $"precision {Precision}{(ChannelsLast ? ", channels-last" : "")}{(FoldBatchNorm ? ", folded BatchNorm" : "")} " +
                "needs a frozen base; full fine-tuning (TrainableBase) runs on the exact fp32 base only.";
        if (DeltaConvolutions != BackbonePrecision.Float32 && Delta.Variant != DeltaVariant.Delta)
            yield return $"Δ convolutions in {DeltaConvolutions} need the Δ variant (Δ_s has the convolutions); variant {Delta.Variant} has none.";
        // A Δ-stage runs the first block's projection shortcut for n_0 = D(h_0) besides the block's own call (and again
        // in backward): on a frozen base that is one more pure function call, on a training base its BatchNorm would
        // update its running statistics two or three times per step.
        if (TrainableBase && Delta.Stages > 0)
            yield return $"a trainable base (full fine-tuning) goes without Δ-modules (Δ stages {Delta.Stages} asked): Δ patches a frozen base; set delta.stages to 0 to fine-tune.";
        if (DeltaSkipSums != BackbonePrecision.Float32 && Precision != DeltaSkipSums)
            yield return $"Δ skip sums in {DeltaSkipSums} need a frozen base in {DeltaSkipSums} (they add its block outputs without casting them up); the base is {Precision}.";
    }
}
