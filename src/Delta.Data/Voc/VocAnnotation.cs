namespace Delta.Data.Voc;

/// <summary>One annotated object. Box in the devkit's 1-based inclusive pixel coordinates, as in the XML.</summary>
public sealed record VocObject(string Name, int Label, string Pose, bool Truncated, bool Difficult, int XMin, int YMin, int XMax, int YMax);

/// <summary>One Annotations/&lt;id&gt;.xml: the image it describes and its objects.</summary>
public sealed record VocAnnotation(string ImageId, string ImagePath, int Width, int Height, IReadOnlyList<VocObject> Objects);

/// <summary>A VOC file that does not meet the format; the message names the file and the problem.</summary>
public sealed class VocFormatException(string path, string problem) : Delta.Abstractions.InputException($"{path}: {problem}")
{
    public string FilePath { get; } = path;
}
