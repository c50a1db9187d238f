namespace Delta.Abstractions.Backbones;

/// <summary>Which frozen base a Δ-backbone (and so a patch) belongs to. The SHA-256 is over the base
/// state dict (parameters and buffers, keys in ordinal order, key bytes then raw little-endian tensor
/// bytes), so a patch is refused on any other weights even under the same architecture name.</summary>
public sealed record BaseIdentity(string Architecture, string Weights, string WeightsSha256);
