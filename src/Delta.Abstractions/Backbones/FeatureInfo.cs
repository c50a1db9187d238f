namespace Delta.Abstractions.Backbones;

/// <summary>One stage output a backbone offers to heads: "C2".."C5" with its channels and stride
/// relative to the input (C2 = 4, C3 = 8, C4 = 16, C5 = 32; smaller when dilated). Heads size
/// themselves from this instead of hard-coding 512/2048.</summary>
public sealed record FeatureInfo(string Name, int Channels, int Stride);
