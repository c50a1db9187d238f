using Delta.Abstractions.Backbones;
using static TorchSharp.torch;

namespace Delta.Abstractions.Patches;

/// <summary>
/// Where patches live (a folder, one file per patch: &lt;name&gt;.dpatch). Writes are atomic: a temporary
/// file is written, flushed and renamed over the target, so an existing patch is never half-written.
/// </summary>
public interface IPatchStore
{
    string Root { get; }
    /// <summary>Saves tensors (copied to CPU) + manifest. Refuses to replace an existing patch unless <paramref name="overwrite"/>.</summary>
    PatchSummary Save(string name, PatchManifest manifest, IReadOnlyDictionary<string, Tensor> tensors, bool overwrite = false);
    /// <summary>Loads by store name or by file path; verifies the checksum, the format version and,
    /// when <paramref name="expectedBase"/> is given, the architecture and base weights hash.</summary>
    Patch Load(string nameOrPath, BaseIdentity? expectedBase = null);
    /// <summary>Reads only the manifest (checksum still verified).</summary>
    PatchSummary Inspect(string nameOrPath);
    /// <summary>Every readable patch in the store. A damaged or unreadable file does not hide the others: it is
    /// skipped, and reported in <paramref name="unreadable"/> when the caller passes a collection.</summary>
    IReadOnlyList<PatchSummary> List(ICollection<PatchException>? unreadable = null);
    bool Delete(string name);
}
