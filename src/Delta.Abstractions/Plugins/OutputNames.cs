namespace Delta.Abstractions.Plugins;

/// <summary>
/// File-name stems for the pictures a predict call writes, one per input and all different: an input's own name without
/// its extension, or that name with "-2", "-3", ... when an earlier input already has it (a/00.png and b/00.png), so
/// that no input's picture silently replaces another's in the one output folder. Compared ignoring case, as a
/// case-insensitive file system would.
/// </summary>
public static class OutputNames
{
    public static IReadOnlyList<string> Stems(IReadOnlyList<string> inputs)
    {
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var stems = new List<string>(inputs.Count);
        foreach (var input in inputs)
        {
            var stem = Path.GetFileNameWithoutExtension(input);
            var unique = stem;
            for (int n = 2; !taken.Add(unique); n++) unique = $"{stem}-{n}";
            stems.Add(unique);
        }
        return stems;
    }
}
