using System.Text.Json;
using Delta.Abstractions.Patches;
using static TorchSharp.torch;

namespace Delta.Backbones.Patches;

/// <summary>
/// The size of a patch on disk, by part, for reports ("patch 1.8 MB vs model copy 65 MB"). Computed without
/// writing anything: <see cref="TotalBytes"/> equals the length of the file <see cref="PatchStore.Save"/> writes.
/// </summary>
/// <param name="TotalBytes">Whole .dpatch file.</param>
/// <param name="ManifestBytes">The UTF-8 JSON manifest.</param>
/// <param name="TensorSectionBytes">The TorchSharp state-dict record (tensor data + keys, shapes, dtypes).</param>
/// <param name="TensorDataBytesBySection">Raw tensor data by top-level prefix ("delta", "head", …).</param>
/// <param name="ElementsBySection">Tensor elements by the same prefixes.</param>
public sealed record PatchSize(
    long TotalBytes,
    long ManifestBytes,
    long TensorSectionBytes,
    IReadOnlyDictionary<string, long> TensorDataBytesBySection,
    IReadOnlyDictionary<string, long> ElementsBySection)
{
    public static PatchSize Of(PatchManifest manifest, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var manifestBytes = JsonSerializer.SerializeToUtf8Bytes(manifest, PatchJson.Options).LongLength;
        var tensorBytes = StateDictSize(tensors);
        var bytesBySection = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var elementsBySection = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, t) in tensors)
        {
            var section = key.Split('.')[0];
            bytesBySection[section] = bytesBySection.GetValueOrDefault(section) + t.numel() * t.ElementSize;
            elementsBySection[section] = elementsBySection.GetValueOrDefault(section) + t.numel();
        }
        return new PatchSize(PatchFile.FixedOverheadBytes + manifestBytes + tensorBytes, manifestBytes, tensorBytes, bytesBySection, elementsBySection);
    }

    /// <summary>Exact size of <paramref name="state"/> saved as a TorchSharp .dat (what <c>module.save</c> writes
    /// for a module with this state dict): the yardstick "full model copy" for a patch.</summary>
    public static long StateDictSize(IReadOnlyDictionary<string, Tensor> state)
    {
        using var counter = new CountingStream();
        using (var writer = new BinaryWriter(counter, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            using var scope = NewDisposeScope();
            var cpu = state.ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous());
            nn.Module.save_state_dict(writer, cpu);
        }
        return counter.Length;
    }

    /// <summary>A write-only stream that only counts bytes (no 60 MB buffer to measure a model copy).</summary>
    private sealed class CountingStream : Stream
    {
        private long length;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => length;
        public override long Position { get => length; set => throw new NotSupportedException(); }
        public override void Write(byte[] buffer, int offset, int count) => length += count;
        public override void Write(ReadOnlySpan<byte> buffer) => length += buffer.Length;
        public override void WriteByte(byte value) => length++;
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
