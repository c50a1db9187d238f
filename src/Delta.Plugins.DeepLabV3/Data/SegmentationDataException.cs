namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>Bad segmentation data: the message starts with the offending file.</summary>
public sealed class SegmentationDataException(string path, string problem) : Exception($"{path}: {problem}")
{
    public string FilePath { get; } = path;
}
