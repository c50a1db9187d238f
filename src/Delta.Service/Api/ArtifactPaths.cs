namespace Delta.Service.Api;

/// <summary>Artifact downloads only from inside the configured roots (no "..", no symlinked escape via full paths).</summary>
public static class ArtifactPaths
{
    public static bool IsInside(string path, IEnumerable<string> roots)
    {
        var full = Path.GetFullPath(path);
        foreach (var root in roots)
        {
            var r = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar;
            if (full.StartsWith(r, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
