using System.Runtime.InteropServices;

namespace Delta.Host.Jobs;

/// <summary>
/// Resolves a user-given path against a root and checks that it stays inside: "..", absolute paths
/// elsewhere and symbolic links pointing out are all refused. Links are resolved with realpath(3).
/// </summary>
public static partial class PathConfinement
{
    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr RealPath(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(IntPtr p);

    /// <summary>The canonical path (links resolved), or null when it does not exist.</summary>
    public static string? Canonical(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return File.Exists(path) || Directory.Exists(path) ? Path.GetFullPath(path) : null;
        var p = RealPath(path, IntPtr.Zero);
        if (p == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { Free(p); }
    }

    /// <summary>Absolute, existing path of <paramref name="userPath"/> inside <paramref name="root"/>; throws
    /// <see cref="BadInputException"/> naming <paramref name="key"/> otherwise.</summary>
    public static string Resolve(string root, string userPath, string key)
    {
        if (string.IsNullOrWhiteSpace(userPath)) throw new BadInputException($"{key} is empty.");
        if (userPath.Contains('\0')) throw new BadInputException($"{key}: '{userPath.Replace("\0", "\\0")}' is not a path (it holds a NUL character).");
        var rootCanonical = Canonical(root) ?? throw new BadInputException($"The data root {root} does not exist (set Delta:DataRoot).");
        var combined = Path.GetFullPath(Path.Combine(rootCanonical, userPath));
        var canonical = Canonical(combined) ?? throw new BadInputException($"{key}: '{userPath}' does not exist (looked for {combined}).");
        var prefix = rootCanonical.EndsWith('/') ? rootCanonical : rootCanonical + "/";
        if (canonical != rootCanonical && !canonical.StartsWith(prefix, StringComparison.Ordinal))
            throw new BadInputException($"{key}: '{userPath}' resolves to {canonical}, outside the data root {rootCanonical}.");
        return canonical;
    }
}
