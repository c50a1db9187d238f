using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Backbones.Patches;
using static TorchSharp.torch;

namespace Delta.Host.Jobs;

/// <summary>
/// The patch store as a training job sees it. The job's own patch name is checked before any training
/// (<see cref="EnsureFree"/>), and its save replaces an existing patch only when the job was run with --overwrite —
/// whatever the plugin passes, so that no plugin can silently replace a patch saved earlier under that name (one
/// that appeared while the job trained is refused too). Everything else goes to the store as it is.
/// </summary>
public sealed class JobPatchStore(IPatchStore inner, string jobName, bool replaceJobPatch) : IPatchStore
{
    public string Root => inner.Root;

    public PatchSummary Save(string name, PatchManifest manifest, IReadOnlyDictionary<string, Tensor> tensors, bool overwrite = false) =>
        inner.Save(name, manifest, tensors, name == jobName ? replaceJobPatch : overwrite);

    public Patch Load(string nameOrPath, BaseIdentity? expectedBase = null) => inner.Load(nameOrPath, expectedBase);
    public PatchSummary Inspect(string nameOrPath) => inner.Inspect(nameOrPath);
    public IReadOnlyList<PatchSummary> List(ICollection<PatchException>? unreadable = null) => inner.List(unreadable);
    public bool Delete(string name) => inner.Delete(name);

    /// <summary>Refuses a job whose patch name is taken, before it trains for hours and then cannot save.</summary>
    public static void EnsureFree(IPatchStore store, string name)
    {
        var path = Path.Combine(store.Root, name + PatchStore.Extension);
        if (File.Exists(path))
            throw new BadInputException($"name: a patch '{name}' already exists ({path}). Give the job another name, delete that patch (delta patches delete {name}), or train with --overwrite to replace it once the new one is trained.");
    }
}
