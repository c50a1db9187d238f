namespace Delta.Abstractions.Patches;

/// <summary>A patch on disk, as listings show it.</summary>
public sealed record PatchSummary(string Name, string Path, long SizeBytes, PatchManifest Manifest);
