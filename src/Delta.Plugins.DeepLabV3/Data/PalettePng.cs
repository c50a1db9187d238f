using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Delta.Plugins.DeepLabV3.Data;

/// <summary>
/// Reads and writes the 8-bit label PNGs VOC uses: colour type 3 (palette) whose pixel values are the class
/// indices; 8-bit greyscale (colour type 0) label maps are read too. OpenCV cannot keep palette indices (it
/// expands them to BGR), hence this small codec: IHDR/PLTE/IDAT/IEND, zlib, the five scanline filters, CRC-32.
/// Errors are <see cref="SegmentationDataException"/>s naming the file.
/// </summary>
public static class PalettePng
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>A decoded label map: row-major indices, Height × Width.</summary>
    public sealed record LabelMap(int Width, int Height, byte[] Indices);

    public static LabelMap Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new SegmentationDataException(path, $"cannot be read ({e.Message})."); }
        try { return Decode(bytes, path); }
        catch (SegmentationDataException) { throw; }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or IndexOutOfRangeException or EndOfStreamException)
        { throw new SegmentationDataException(path, $"not a readable PNG ({e.Message})."); }
    }

    private static LabelMap Decode(byte[] bytes, string path)
    {
        if (bytes.Length < 8 || !bytes.AsSpan(0, 8).SequenceEqual(Signature)) throw new SegmentationDataException(path, "not a PNG file (bad signature).");
        int pos = 8, width = 0, height = 0;
        bool sawHeader = false;
        using var idat = new MemoryStream();
        while (true)
        {
            if (pos + 12 > bytes.Length) throw new SegmentationDataException(path, "truncated PNG (no IEND chunk).");
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(pos));
            if (length < 0 || pos + 12 + (long)length > bytes.Length) throw new SegmentationDataException(path, "truncated PNG chunk.");
            var type = Encoding.ASCII.GetString(bytes, pos + 4, 4);
            var data = bytes.AsSpan(pos + 8, length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(pos + 8 + length));
            if (crc != Crc32.Compute(bytes.AsSpan(pos + 4, length + 4))) throw new SegmentationDataException(path, $"corrupt PNG ({type} chunk fails its CRC).");
            pos += 12 + length;
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    byte depth = data[8], colour = data[9], interlace = data[12];
                    if (depth != 8 || colour is not (0 or 3))
                        throw new SegmentationDataException(path, $"label PNGs must be 8-bit palette or greyscale (got bit depth {depth}, colour type {colour}).");
                    if (interlace != 0) throw new SegmentationDataException(path, "interlaced label PNGs are not supported.");
                    if (width <= 0 || height <= 0) throw new SegmentationDataException(path, $"invalid size {width}x{height}.");
                    sawHeader = true;
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
                case "IEND":
                    if (!sawHeader) throw new SegmentationDataException(path, "PNG without IHDR.");
                    return new LabelMap(width, height, Unfilter(Inflate(idat.ToArray()), width, height, path));
            }
        }
    }

    private static byte[] Inflate(byte[] compressed)
    {
        using var input = new ZLibStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Reverses the PNG scanline filters for 1 byte per pixel (PNG spec §9).</summary>
    private static byte[] Unfilter(byte[] raw, int width, int height, string path)
    {
        int stride = width + 1;
        if (raw.Length < (long)stride * height) throw new SegmentationDataException(path, $"image data is shorter than {width}x{height} pixels.");
        var pixels = new byte[width * height];
        for (int y = 0; y < height; y++)
        {
            byte filter = raw[y * stride];
            var line = pixels.AsSpan(y * width, width);
            var src = raw.AsSpan(y * stride + 1, width);
            var up = y > 0 ? pixels.AsSpan((y - 1) * width, width) : Span<byte>.Empty;
            for (int x = 0; x < width; x++)
            {
                int a = x > 0 ? line[x - 1] : 0, b = y > 0 ? up[x] : 0, c = x > 0 && y > 0 ? up[x - 1] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new SegmentationDataException(path, $"unknown PNG filter type {filter} in row {y}."),
                };
                line[x] = (byte)(src[x] + predictor);
            }
        }
        return pixels;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Writes indices as an 8-bit palette PNG with <paramref name="palette"/> (256 RGB triples, e.g. <see cref="VocPalette.Rgb"/>).
    /// Written to a temporary file and renamed, so an existing file is never left half-written.</summary>
    public static void Write(string path, int width, int height, ReadOnlySpan<byte> indices, byte[] palette)
    {
        if (indices.Length != width * height) throw new ArgumentException($"Expected {width * height} indices, got {indices.Length}.");
        if (palette.Length % 3 != 0 || palette.Length > 768) throw new ArgumentException("Palette must be at most 256 RGB triples.");
        var raw = new byte[(width + 1) * height];
        for (int y = 0; y < height; y++) indices.Slice(y * width, width).CopyTo(raw.AsSpan(y * (width + 1) + 1)); // filter 0 per row
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; header[9] = 3;   // bit depth 8, colour type 3 (palette); compression/filter/interlace 0

        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            file.Write(Signature);
            WriteChunk(file, "IHDR", header);
            WriteChunk(file, "PLTE", palette);
            WriteChunk(file, "IDAT", compressed.ToArray());
            WriteChunk(file, "IEND", []);
            file.Flush(true);
        }
        File.Move(temp, full, overwrite: true);
    }

    private static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        var typed = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typed);
        data.CopyTo(typed, 4);
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(typed));
        s.Write(word);
    }

    private static class Crc32
    {
        private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
        {
            uint c = (uint)n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            return c;
        }).ToArray();

        public static uint Compute(ReadOnlySpan<byte> data)
        {
            uint c = 0xFFFFFFFFu;
            foreach (var b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
            return c ^ 0xFFFFFFFFu;
        }
    }
}
