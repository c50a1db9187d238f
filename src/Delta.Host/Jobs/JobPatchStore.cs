using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Backbones.Patches;
using static TorchSharp.torch;

namespace Delta.Host.Jobs;

/// <summary>
/// The patch store as a training job sees it. The job's own patch name is checked before any training
/// (<see cref="EnsureFree"/>), and its save replaces an existing patch only when the job was run with --overwrite —
/// whatever the plugin passes, so that no plugin can silently replace a patch saved earlier under that name (one
/// that appeared while the job trained is refused too). A service job's patch carries the job's id
/// (<see cref="JobIdProperty"/>), so that a later attempt of the same job can tell its own saved patch from another's
/// (<see cref="SavedByJob"/>). Everything else goes to the store as it is.
/// </summary>
public sealed class JobPatchStore(IPatchStore inner, string jobName, bool replaceJobPatch, string? jobId = null) : IPatchStore
{
    /// <summary>Manifest property naming the service job that trained the patch.</summary>
    public const string JobIdProperty = "serviceJob";

    public string Root => inner.Root;

    public PatchSummary Save(string name, PatchManifest manifest, IReadOnlyDictionary<string, Tensor> tensors, bool overwrite = false)
    {
        if (name != jobName) return inner.Save(name, manifest, tensors, overwrite);
        if (jobId is not null)
            manifest = manifest with { Properties = new Dictionary<string, string>(manifest.Properties) { [JobIdProperty] = jobId } };
        return inner.Save(name, manifest, tensors, replaceJobPatch);
    }

    public Patch Load(string nameOrPath, BaseIdentity? expectedBase = null) => inner.Load(nameOrPath, expectedBase);
    public PatchSummary Inspect(string nameOrPath) => inner.Inspect(nameOrPath);
    public IReadOnlyList<PatchSummary> List(ICollection<PatchException>? unreadable = null) => inner.List(unreadable);
    public bool Delete(string name) => inner.Delete(name);

    /// <summary>The patch of <paramref name="name"/> when service job <paramref name="jobId"/> saved it (an attempt that
    /// died after saving, before its outcome was recorded); null when there is none or another job's.</summary>
    public static PatchSummary? SavedByJob(IPatchStore store, string name, string jobId)
    {
        if (!File.Exists(PathOf(store, name))) return null;
        var summary = store.Inspect(name);
        return summary.Manifest.Properties.GetValueOrDefault(JobIdProperty) == jobId ? summary : null;
    }

    /// <summary>
    /// Refuses a job whose patch folder cannot hold its patch — a file in the folder's place or on its path, a folder that
    /// cannot be made — before it trains: the save found it only after training, with a bare IOException. A missing
    /// folder is made, as the save would make it.
    /// </summary>
    public static void EnsureFolderUsable(IPatchStore store)
    {
        try { Directory.CreateDirectory(store.Root); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var why = File.Exists(store.Root) ? "a file is in its place" : e.Message;
            throw new BadInputException($"patches: the patch folder {store.Root} cannot be used ({why}), so the job could not save its patch. " +
                "Move what is in the way, or set another folder (Delta:PatchesPath).");
        }
        // A folder that exists can still refuse the save (read-only file system, no permission): written once here, so
        // that it says so now. Not the job's input, so a failure, not bad input.
        var probe = Path.Combine(store.Root, $".write-probe-{Guid.NewGuid():N}");
        try { File.WriteAllBytes(probe, []); File.Delete(probe); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"patches: the patch folder {store.Root} cannot be written ({e.Message}), so the job could not save its patch.", e);
        }
    }

    /// <summary>Refuses a job whose patch name is taken, before it trains for hours and then cannot save.</summary>
    public static void EnsureFree(IPatchStore store, string name)
    {
        var path = PathOf(store, name);
        if (File.Exists(path))
            throw new BadInputException($"name: a patch '{name}' already exists ({path}). Give the job another name, delete that patch (delta patches delete {name}), or train with --overwrite to replace it once the new one is trained.");
    }

    private static string PathOf(IPatchStore store, string name) => Path.Combine(store.Root, name + PatchStore.Extension);
}
