using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Delta.Data.Datasets;
using Delta.Data.IO;
using Microsoft.Win32.SafeHandles;
using static TorchSharp.torch;

namespace Delta.Data.Loading;

/// <summary>
/// A dataset whose items were decoded and resized once (before augmentation) and stored as uint8
/// [N, C, Size, Size] in a cache file, so later runs skip JPEG/PNG decoding. The file name carries a SHA-256 key of
/// the dataset's identity (for file datasets: every path, length, modification time and label) and the size, so a
/// changed dataset never reuses a stale cache. Items are read from the file on demand (thread-safe positional reads).
/// File layout: "DDC1", int32 N, C, Size (little-endian), then the pixels.
/// </summary>
public sealed class DecodedCache : IImageDataset, IDisposable
{
    private static readonly byte[] Magic = "DDC1"u8.ToArray();
    private const int HeaderBytes = 16;
    private readonly IImageDataset source;
    private readonly SafeFileHandle handle;
    private readonly int channels;

    private DecodedCache(IImageDataset source, string path, int size, int channels, bool built)
    {
        this.source = source; Path = path; Size = size; this.channels = channels; Built = built;
        handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    public string Path { get; }
    public int Size { get; }
    /// <summary>True when this run wrote the cache; false when an existing one was reused.</summary>
    public bool Built { get; }
    public string Name => source.Name;
    public IReadOnlyList<string> ClassNames => source.ClassNames;
    public int Count => source.Count;
    public int Label(int index) => source.Label(index);

    public Tensor Load(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index));
        var itemBytes = channels * Size * Size;
        var buffer = new byte[itemBytes];
        var read = RandomAccess.Read(handle, buffer, HeaderBytes + (long)index * itemBytes);
        if (read != itemBytes) throw new InvalidDataException($"{Path}: truncated cache file (item {index}).");
        using var scope = NewDisposeScope();
        return tensor(buffer, dtype: ScalarType.Byte).reshape(channels, Size, Size).to_type(ScalarType.Float32).div_(255f).MoveToOuterDisposeScope();
    }

    /// <summary>Opens the cache of (<paramref name="source"/>, <paramref name="size"/>) in <paramref name="directory"/>, building it first if missing.</summary>
    public static DecodedCache Open(IImageDataset source, int size, string directory, int workers = 1)
    {
        Directory.CreateDirectory(directory);
        var key = Key(source, size);
        var safeName = string.Concat(source.Name.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_'));
        var path = System.IO.Path.Combine(directory, $"{safeName}-{size}px-{key[..16]}.ddc");
        if (File.Exists(path))
        {
            var c = ReadHeader(path, source.Count, size);
            if (c is int ch) return new DecodedCache(source, path, size, ch, built: false);
        }
        var channels = Build(source, size, path, workers);
        return new DecodedCache(source, path, size, channels, built: true);
    }

    /// <summary>The identity key: dataset name, count, labels, class names and (for files) path, length and mtime of every item.</summary>
    public static string Key(IImageDataset source, int size)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) { sha.AppendData(Encoding.UTF8.GetBytes(s)); sha.AppendData([0]); }
        Add($"v1|{source.Name}|{source.Count}|{size}|{string.Join('\u001f', source.ClassNames)}");
        for (int i = 0; i < source.Count; i++)
        {
            if (source is FileImageDataset files)
            {
                var info = new FileInfo(files.PathOf(i));
                Add($"{info.FullName}|{(info.Exists ? info.Length : -1)}|{(info.Exists ? info.LastWriteTimeUtc.Ticks : 0)}|{source.Label(i)}");
            }
            else Add(source.Label(i).ToString());
        }
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    private static int? ReadHeader(string path, int count, int size)
    {
        using var f = File.OpenRead(path);
        var h = new byte[HeaderBytes];
        if (f.Read(h) != HeaderBytes || !h.AsSpan(0, 4).SequenceEqual(Magic)) return null;
        int n = BinaryPrimitives.ReadInt32LittleEndian(h.AsSpan(4)), c = BinaryPrimitives.ReadInt32LittleEndian(h.AsSpan(8)), s = BinaryPrimitives.ReadInt32LittleEndian(h.AsSpan(12));
        if (n != count || s != size || c is not (1 or 3) || f.Length != HeaderBytes + (long)n * c * s * s) return null;
        return c;
    }

    /// <summary>Decodes every item (in parallel) into a new cache file, written atomically (<see cref="AtomicFile"/>), so a
    /// crash never leaves a half cache and builders running at once do not collide.</summary>
    private static int Build(IImageDataset source, int size, string path, int workers)
    {
        if (source.Count == 0) throw new InvalidDataException($"{source.Name}: nothing to cache (empty dataset).");
        int channels;
        using (var first = source.Load(0)) channels = (int)first.shape[0] == 1 ? 1 : 3;
        var itemBytes = channels * size * size;
        AtomicFile.Write(path, stream =>
        {
            var f = stream.SafeFileHandle;   // positional writes from the decoding threads
            var header = new byte[HeaderBytes];
            Magic.CopyTo(header, 0);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), source.Count);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), channels);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), size);
            RandomAccess.Write(f, header, 0);
            Parallel.For(0, source.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, workers) }, i =>
            {
                using var scope = NewDisposeScope();
                var x = Transforms.Resize.To(source.Load(i), size, size);
                if (x.shape[0] != channels)
                {
                    if (x.shape[0] == 1) x = x.expand(3, -1, -1);
                    else throw new InvalidDataException($"{source.Name}: item {i} has {x.shape[0]} channels, item 0 has {channels}.");
                }
                var bytes = x.mul(255f).round_().clamp_(0, 255).to_type(ScalarType.Byte).contiguous();
                RandomAccess.Write(f, bytes.bytes, HeaderBytes + (long)i * itemBytes);
            });
        }, preallocationSize: HeaderBytes + (long)source.Count * itemBytes);
        return channels;
    }

    public void Dispose() => handle.Dispose();
}
