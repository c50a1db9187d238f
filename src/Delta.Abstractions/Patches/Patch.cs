using static TorchSharp.torch;

namespace Delta.Abstractions.Patches;

/// <summary>A loaded patch: its manifest and its tensors (on the CPU; move them with the module that loads them).</summary>
public sealed class Patch(PatchManifest manifest, IReadOnlyDictionary<string, Tensor> tensors, string path) : IDisposable
{
    public PatchManifest Manifest { get; } = manifest;
    public IReadOnlyDictionary<string, Tensor> Tensors { get; } = tensors;
    public string Path { get; } = path;

    /// <summary>The tensors under "<paramref name="prefix"/>." with the prefix removed.</summary>
    public IReadOnlyDictionary<string, Tensor> Section(string prefix) =>
        Tensors.Where(kv => kv.Key.StartsWith(prefix + ".", StringComparison.Ordinal))
               .ToDictionary(kv => kv.Key[(prefix.Length + 1)..], kv => kv.Value);

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}
