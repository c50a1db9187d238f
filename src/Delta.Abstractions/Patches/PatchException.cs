namespace Delta.Abstractions.Patches;

/// <summary>A patch could not be read, verified or applied. The message names the file and the problem.</summary>
public sealed class PatchException(PatchErrorKind kind, string path, string message)
    : Exception($"{path}: {message}")
{
    public PatchErrorKind Kind { get; } = kind;
    public string FilePath { get; } = path;
}
