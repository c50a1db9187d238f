using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Delta.Abstractions.Patches;
using static TorchSharp.torch;

namespace Delta.Backbones.Patches;

/// <summary>
/// The .dpatch format, one file per patch:
/// <code>
///   "DPATCH\n"            7 bytes magic
///   format version        int32 little-endian
///   manifest length       int64 LE, then the manifest as UTF-8 JSON
///   tensors length        int64 LE, then the tensors as a TorchSharp state-dict record (CPU tensors)
///   SHA-256               32 bytes over everything before it
/// </code>
/// Lengths make truncation detectable before parsing; the checksum catches any altered byte.
/// </summary>
public static class PatchFile
{
    private static readonly byte[] Magic = "DPATCH\n"u8.ToArray();
    private const int HashLength = 32;
    /// <summary>Bytes of a patch file besides the manifest and the tensor section: magic, version, two lengths, SHA-256.</summary>
    public const int FixedOverheadBytes = 7 + 4 + 8 + 8 + HashLength;

    public static byte[] Encode(PatchManifest manifest, IReadOnlyDictionary<string, Tensor> tensors)
    {
        if (manifest.FormatVersion != PatchManifest.CurrentFormatVersion)
            throw new ArgumentException($"This build writes patch format version {PatchManifest.CurrentFormatVersion} only (manifest says {manifest.FormatVersion}).", nameof(manifest));
        var json = JsonSerializer.SerializeToUtf8Bytes(manifest, PatchJson.Options);
        using var tensorStream = new MemoryStream();
        using (var w = new BinaryWriter(tensorStream, Encoding.UTF8, leaveOpen: true))
        {
            var cpu = new Dictionary<string, Tensor>();
            using var scope = NewDisposeScope();
            foreach (var (k, t) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal)) cpu[k] = t.detach().cpu().contiguous();
            nn.Module.save_state_dict(w, cpu);
        }
        using var body = new MemoryStream();
        body.Write(Magic);
        Span<byte> buf = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(buf, manifest.FormatVersion); body.Write(buf[..4]);
        BinaryPrimitives.WriteInt64LittleEndian(buf, json.Length); body.Write(buf);
        body.Write(json);
        BinaryPrimitives.WriteInt64LittleEndian(buf, tensorStream.Length); body.Write(buf);
        tensorStream.Position = 0; tensorStream.CopyTo(body);
        var hash = SHA256.HashData(body.GetBuffer().AsSpan(0, (int)body.Length));
        body.Write(hash);
        return body.ToArray();
    }

    /// <summary>Verifies and decodes; tensors are read only when <paramref name="withTensors"/>.</summary>
    public static (PatchManifest Manifest, Dictionary<string, Tensor>? Tensors) Decode(byte[] bytes, string path, bool withTensors)
    {
        var minimum = Magic.Length + 4 + 8;
        var head = bytes.AsSpan(0, Math.Min(bytes.Length, Magic.Length));
        if (!head.SequenceEqual(Magic.AsSpan(0, head.Length)))
            throw new PatchException(PatchErrorKind.Corrupt, path, "not a Delta patch (bad magic bytes).");
        if (bytes.Length < minimum) throw new PatchException(PatchErrorKind.Truncated, path, $"file is truncated ({bytes.Length} bytes, header needs {minimum}).");
        // The version comes before any other check: a newer format's layout and checksum are not ours to judge.
        var version = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(Magic.Length, 4));
        if (version != PatchManifest.CurrentFormatVersion)
            throw new PatchException(PatchErrorKind.UnsupportedFormatVersion, path, $"patch format version {version} is not supported (this build reads {PatchManifest.CurrentFormatVersion}).");
        var jsonLength = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(Magic.Length + 4, 8));
        long offset = minimum;
        // Compared as "more than what is left", which cannot overflow for a damaged length field near long.MaxValue.
        if (jsonLength < 0 || jsonLength > bytes.Length - offset - 8)
            throw new PatchException(PatchErrorKind.Truncated, path, $"file is truncated inside the manifest ({bytes.Length} bytes, manifest of {jsonLength} bytes declared).");
        var jsonStart = offset; offset += jsonLength;
        var tensorLength = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)offset, 8)); offset += 8;
        if (tensorLength < 0 || tensorLength > bytes.Length - offset - HashLength)
            throw new PatchException(PatchErrorKind.Truncated, path, $"file is truncated inside the tensors ({bytes.Length} bytes, a tensor section of {tensorLength} bytes declared after byte {offset}).");
        var tensorStart = offset; offset += tensorLength;
        if (offset + HashLength != bytes.Length)
            throw new PatchException(PatchErrorKind.Corrupt, path, $"{bytes.Length - offset - HashLength} unexpected bytes after the tensors.");
        var expected = SHA256.HashData(bytes.AsSpan(0, (int)offset));
        if (!expected.AsSpan().SequenceEqual(bytes.AsSpan((int)offset, HashLength)))
            throw new PatchException(PatchErrorKind.Corrupt, path, "checksum mismatch: the file was altered or damaged.");
        PatchManifest manifest;
        try { manifest = JsonSerializer.Deserialize<PatchManifest>(bytes.AsSpan((int)jsonStart, (int)jsonLength), PatchJson.Options) ?? throw new JsonException("empty manifest"); }
        catch (Exception e) when (e is JsonException or ArgumentException)
        { throw new PatchException(PatchErrorKind.Corrupt, path, $"manifest is not valid: {e.Message}"); }
        if (!withTensors) return (manifest, null);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var reader = new BinaryReader(new MemoryStream(bytes, (int)tensorStart, (int)tensorLength));
        try
        {
            long count = 0;
            for (int shift = 0; ; shift += 7)
            {
                if (shift > 63) throw new InvalidDataException("the tensor count is not a valid 7-bit encoded integer");
                var b = reader.ReadByte();
                count |= (long)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) break;
            }
            for (long i = 0; i < count; i++) { var key = reader.ReadString(); tensors[key] = Tensor.Load(reader); }
            if (reader.BaseStream.Position != tensorLength)
                throw new InvalidDataException($"{tensorLength - reader.BaseStream.Position} bytes left over after {count} tensors");
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or InvalidDataException)
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw new PatchException(PatchErrorKind.Corrupt, path, $"tensor section is unreadable: {e.Message}");
        }
        return (manifest, tensors);
    }
}
