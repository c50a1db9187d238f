namespace Delta.Data.Voc;

/// <summary>Names that VOC files give for other files (an annotation's &lt;filename&gt;, a split list's image id): plain
/// names inside the folder the reader joins them to, never a path that reaches outside it.</summary>
internal static class VocFileNames
{
    /// <summary><paramref name="name"/>, refused (naming <paramref name="source"/>) when it is rooted or has a folder part.</summary>
    public static string RequirePlain(string name, string source, string what)
    {
        if (name.Length == 0 || Path.IsPathRooted(name) || name.IndexOfAny(['/', '\\']) >= 0 || name is "." or "..")
            throw new VocFormatException(source, $"{what} '{name}' is not a plain file name (no folders, no '..'): it must name a file inside the dataset's own folder.");
        return name;
    }
}
