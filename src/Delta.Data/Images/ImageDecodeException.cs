namespace Delta.Data.Images;

/// <summary>An image file could not be read or decoded; the message names the file and the problem.</summary>
public sealed class ImageDecodeException(string path, string problem) : Delta.Abstractions.InputException($"{path}: {problem}")
{
    public string FilePath { get; } = path;
}
