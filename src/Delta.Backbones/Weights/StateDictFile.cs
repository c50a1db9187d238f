using Delta.Backbones.Patches;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Delta.Backbones.Weights;

/// <summary>
/// Reads and writes state dicts in the formats users have: TorchSharp's own (.dat: LEB128 count, then
/// key + tensor records), safetensors (.safetensors), and PyTorch pickles written by torch.save(state_dict)
/// (.pth, .pt, .bin; via TorchSharp.PyBridge). Unreadable files fail with the path and the reason.
/// </summary>
public static class StateDictFile
{
    public static readonly string[] Extensions = [".dat", ".safetensors", ".pth", ".pt", ".bin"];

    public static bool IsSupported(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Weights file not found: {path}", path);
        var ext = Path.GetExtension(path).ToLowerInvariant();
        try
        {
            return ext switch
            {
                ".dat" => ReadTorchSharp(path),
                ".safetensors" => Safetensors.LoadStateDict(path, null),
                ".pth" or ".pt" or ".bin" => ReadPickle(path),
                _ => throw new NotSupportedException($"unsupported extension '{ext}' (supported: {string.Join(", ", Extensions)})"),
            };
        }
        catch (Exception e) when (e is not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: cannot read state dict: {e.Message}", e);
        }
    }

    /// <summary>Writes a state dict as .dat (TorchSharp), .safetensors, or a PyTorch pickle (.pth/.pt/.bin, readable
    /// by Python's torch.load). Tensors are copied to the CPU. Written to a temporary file in the same folder and
    /// renamed, so an existing file is replaced only by a complete one.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> state)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (!Extensions.Contains(ext))
            throw new NotSupportedException($"{path}: unsupported extension '{ext}' (supported: {string.Join(", ", Extensions)}).");
        var full = Path.GetFullPath(path);
        var tmp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.tmp-{Guid.NewGuid():N}");
        using var scope = NewDisposeScope();
        var dict = state.ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().contiguous());
        try
        {
            switch (ext)
            {
                case ".dat":
                    using (var stream = new FileStream(tmp, FileMode.CreateNew))
                    using (var writer = new BinaryWriter(stream))
                    {
                        nn.Module.save_state_dict(writer, dict);
                        writer.Flush();
                        stream.Flush(flushToDisk: true);
                    }
                    break;
                case ".safetensors":
                    Safetensors.SaveStateDict(tmp, dict);
                    break;
                default:
                    PyTorchPickler.PickleStateDict(tmp, dict);
                    break;
            }
            // The other writers close the file themselves: flush its data to disk before the rename, so a crash
            // cannot leave the target replaced by an empty file; then make the rename itself durable.
            if (ext != ".dat")
                using (var written = new FileStream(tmp, FileMode.Open, FileAccess.ReadWrite)) written.Flush(flushToDisk: true);
            File.Move(tmp, full, overwrite: true);
            DirectorySync.Flush(Path.GetDirectoryName(full)!);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>A pickled dict of tensors (torch.save(model.state_dict())); a full training checkpoint or a pickled
    /// module is refused with the offending key, rather than half-read.</summary>
    private static Dictionary<string, Tensor> ReadPickle(string path)
    {
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in PyTorchUnpickler.UnpickleStateDict(path))
        {
            if (e.Key is not string key || e.Value is not Tensor t)
            {
                foreach (var loaded in dict.Values) loaded.Dispose();
                throw new InvalidDataException($"entry '{e.Key}' is a {e.Value?.GetType().Name ?? "null"}, not a tensor: " +
                    "expected a plain state dict (save model.state_dict(), not a checkpoint or the module)");
            }
            dict[key] = t;
        }
        return dict;
    }

    private static Dictionary<string, Tensor> ReadTorchSharp(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        long count = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (shift >= 64) throw new InvalidDataException("malformed record count");
            var b = reader.ReadByte();
            count |= (long)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        var dict = new Dictionary<string, Tensor>();
        for (long i = 0; i < count; i++)
        {
            var key = reader.ReadString();
            dict[key] = Tensor.Load(reader);
        }
        if (stream.Position != stream.Length) throw new InvalidDataException($"{stream.Length - stream.Position} trailing bytes after {count} records");
        return dict;
    }
}
