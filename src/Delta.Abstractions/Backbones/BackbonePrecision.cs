namespace Delta.Abstractions.Backbones;

/// <summary>
/// Number format of the frozen base's forward pass. <see cref="Float32"/> is the exact mode: Δ disabled gives the
/// base model bit for bit (the zero-drop guarantee). <see cref="BFloat16"/> is the fast mode: the frozen base runs
/// on a bfloat16 copy of its weights (cast once, kept beside the fp32 base, which stays unchanged), while the
/// Δ-modules, the gated-skip BatchNorms and every task head stay fp32; activations are cast at the boundaries.
/// The fast mode changes the base task's outputs by bf16 rounding (docs/PERFORMANCE.md states how much).
/// </summary>
public enum BackbonePrecision
{
    Float32,
    BFloat16,
}
