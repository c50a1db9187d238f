using System.Text.RegularExpressions;
using Delta.Abstractions;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using static TorchSharp.torch;

namespace Delta.Backbones.Patches;

/// <summary>
/// Patches in a folder, one <c>&lt;name&gt;.dpatch</c> each (format: <see cref="PatchFile"/>). Saving writes a
/// temporary file in the same folder, flushes it to disk and renames it over the target, so a reader sees the
/// old patch or the new one, never a torn file; an existing patch is only replaced when asked.
/// </summary>
public sealed partial class PatchStore : IPatchStore
{
    public const string Extension = ".dpatch";

    public PatchStore(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex ValidName();

    /// <summary>Refuses a name that is not a plain patch name. Names come from the user (a job's name, `patches delete
    /// NAME`, `eval NAME`), so this is bad input, which hosts report as such (exit code 2), not a failure.</summary>
    public static void ValidateName(string name)
    {
        if (!ValidName().IsMatch(name) || name.Contains(".."))
            throw new InputException($"Invalid patch name '{name}': use letters, digits, '.', '_' and '-' (no path separators, no '..'), at most 128 characters.");
        // The store adds the extension: "x.dpatch" would be saved as x.dpatch.dpatch, listed as "x.dpatch", and not
        // be found again under that name (a lookup strips one extension).
        if (name.EndsWith(Extension, StringComparison.OrdinalIgnoreCase))
            throw new InputException($"Invalid patch name '{name}': leave out the '{Extension}' extension, the store adds it.");
    }

    public PatchSummary Save(string name, PatchManifest manifest, IReadOnlyDictionary<string, Tensor> tensors, bool overwrite = false)
    {
        ValidateName(name);
        Directory.CreateDirectory(Root);
        var path = Path.Combine(Root, name + Extension);
        if (File.Exists(path) && !overwrite)
            throw new PatchException(PatchErrorKind.AlreadyExists, path, "a patch with this name already exists (pass overwrite to replace it).");
        var bytes = PatchFile.Encode(manifest, tensors);              // all encoding happens before the disk is touched
        var tmp = Path.Combine(Root, $".{name}{Extension}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            // Without overwrite the rename itself refuses an existing target, so a patch that appeared since the
            // check above (another process) is not replaced either.
            try { File.Move(tmp, path, overwrite); }
            catch (IOException) when (!overwrite && File.Exists(path))
            { throw new PatchException(PatchErrorKind.AlreadyExists, path, "a patch with this name already exists (pass overwrite to replace it)."); }
            DirectorySync.Flush(Root);     // the rename itself lives in the folder's entry table: make it durable too
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
        return new PatchSummary(name, path, bytes.Length, manifest);
    }

    public Patch Load(string nameOrPath, BaseIdentity? expectedBase = null)
    {
        var path = Resolve(nameOrPath);
        var (manifest, tensors) = PatchFile.Decode(File.ReadAllBytes(path), path, withTensors: true);
        try { CheckBase(manifest, expectedBase, path); }
        catch { foreach (var t in tensors!.Values) t.Dispose(); throw; }
        return new Patch(manifest, tensors!, path);
    }

    public PatchSummary Inspect(string nameOrPath)
    {
        var path = Resolve(nameOrPath);
        var bytes = File.ReadAllBytes(path);
        var (manifest, _) = PatchFile.Decode(bytes, path, withTensors: false);
        return new PatchSummary(Path.GetFileNameWithoutExtension(path), path, bytes.Length, manifest);
    }

    public IReadOnlyList<PatchSummary> List(ICollection<PatchException>? unreadable = null)
    {
        if (!Directory.Exists(Root)) return [];
        var list = new List<PatchSummary>();
        foreach (var file in Directory.GetFiles(Root, "*" + Extension).OrderBy(f => f, StringComparer.Ordinal))
        {
            try { list.Add(Inspect(file)); }
            catch (PatchException e) { unreadable?.Add(e); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            { unreadable?.Add(new PatchException(PatchErrorKind.NotFound, file, $"cannot be read: {e.Message}")); }
        }
        return list;
    }

    public bool Delete(string name)
    {
        ValidateName(name);
        var path = Path.Combine(Root, name + Extension);
        if (!File.Exists(path)) return false;
        File.Delete(path);
        return true;
    }

    /// <summary>Refuses a patch made for another architecture or other base weights.</summary>
    public static void CheckBase(PatchManifest manifest, BaseIdentity? expected, string path)
    {
        if (expected is null) return;
        if (!string.Equals(manifest.Architecture, expected.Architecture, StringComparison.OrdinalIgnoreCase))
            throw new PatchException(PatchErrorKind.WrongArchitecture, path,
                $"patch is for architecture '{manifest.Architecture}', but the backbone is '{expected.Architecture}'.");
        if (!string.Equals(manifest.BaseWeightsSha256, expected.WeightsSha256, StringComparison.OrdinalIgnoreCase))
            throw new PatchException(PatchErrorKind.WrongBaseWeights, path,
                $"patch was trained on other base weights ('{manifest.BaseWeights}', SHA-256 {Prefix(manifest.BaseWeightsSha256)}…) than the loaded ones ('{expected.Weights}', {Prefix(expected.WeightsSha256)}…).");
    }

    private static string Prefix(string? sha256) => sha256 is null ? "(none)" : sha256[..Math.Min(12, sha256.Length)];

    private string Resolve(string nameOrPath)
    {
        // "name" and "name.dpatch" are looked up in the store; anything with a directory part is a path.
        string path;
        if (nameOrPath.Contains('/') || nameOrPath.Contains('\\'))
            path = Path.GetFullPath(nameOrPath);
        else
        {
            var name = nameOrPath.EndsWith(Extension, StringComparison.Ordinal) ? nameOrPath[..^Extension.Length] : nameOrPath;
            ValidateName(name);
            path = Path.Combine(Root, name + Extension);
        }
        if (!File.Exists(path)) throw new PatchException(PatchErrorKind.NotFound, path, "no such patch.");
        return path;
    }
}
