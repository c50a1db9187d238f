using System.Buffers.Binary;
using System.IO.Compression;
using Delta.Data.IO;

namespace Delta.Data.Voc;

/// <summary>
/// Minimal PNG codec for 8-bit palette images (colour type 3), the format of VOC's SegmentationClass files.
/// OpenCV decodes palette PNGs to colours; segmentation needs the palette INDEX per pixel, so we read and
/// write the chunks ourselves: IHDR, PLTE, IDAT (zlib, one filter byte per row), IEND, with CRC32 per chunk.
/// Reading also accepts 8-bit greyscale PNGs (index = grey value) because some VOC conversions store those (e.g. the
/// SBD masks in SegmentationClassAug). Read errors are <see cref="InvalidDataException"/>s whose message starts with the file.
/// Which label values are valid is the reader's business (<see cref="VocSegmentationReader.ReadMask"/>), not the codec's.
/// </summary>
public static class PalettePng
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>
    /// Writes <paramref name="indices"/> (row-major, width*height) with the given RGB palette (≤ 256 entries). Every index
    /// must have a palette entry. The file is written next to its target under a temporary name and renamed over it, so
    /// a crash or a bad argument never leaves a half-written or emptied label file behind.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<byte> indices, int width, int height, IReadOnlyList<(byte R, byte G, byte B)> palette)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"{path}: invalid image size {width}x{height}.");
        if ((long)width * height != indices.Length) throw new ArgumentException($"{path}: {indices.Length} indices for a {width}x{height} image.");
        if (palette.Count is 0 or > 256) throw new ArgumentException($"{path}: a PNG palette has 1..256 entries (got {palette.Count}).");
        if (palette.Count < 256)
        {
            int outside = indices.IndexOfAnyInRange((byte)palette.Count, (byte)255);
            if (outside >= 0)
                throw new ArgumentException($"{path}: index {indices[outside]} at pixel ({outside % width},{outside / width}) has no entry in the {palette.Count}-colour palette.");
        }
        using var ms = new MemoryStream();
        ms.Write(Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 3; // bit depth 8, colour type 3 (palette); compression/filter/interlace 0
        WriteChunk(ms, "IHDR", ihdr);
        var plte = new byte[palette.Count * 3];
        for (int i = 0; i < palette.Count; i++) { plte[3 * i] = palette[i].R; plte[3 * i + 1] = palette[i].G; plte[3 * i + 2] = palette[i].B; }
        WriteChunk(ms, "PLTE", plte);
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
                for (int y = 0; y < height; y++) { z.WriteByte(0); z.Write(indices.Slice(y * width, width)); } // filter 0 (None)
            WriteChunk(ms, "IDAT", raw.ToArray());
        }
        WriteChunk(ms, "IEND", []);
        WriteAtomically(path, ms);
    }

    private static void WriteAtomically(string path, MemoryStream content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.Write(path, file =>
        {
            content.Position = 0;
            content.CopyTo(file);
        });
    }

    /// <summary>Reads an 8-bit palette (or 8-bit greyscale) PNG and returns its per-pixel index values.</summary>
    public static (byte[] Indices, int Width, int Height) Read(string path)
    {
        byte[] data;
        try { data = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new InvalidDataException($"{path}: cannot be read ({e.Message})."); }
        if (data.Length < 8 || !data.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException($"{path}: not a PNG file.");
        int width = 0, height = 0, colourType = -1, pos = 8;
        using var idat = new MemoryStream();
        bool sawEnd = false;
        while (pos + 12 <= data.Length)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(pos));
            if (len < 0 || pos + 12L + len > data.Length) throw new InvalidDataException($"{path}: truncated PNG chunk at byte {pos}.");
            string type = System.Text.Encoding.ASCII.GetString(data, pos + 4, 4);
            var body = data.AsSpan(pos + 8, len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(pos + 8 + len));
            if (Crc32(data.AsSpan(pos + 4, 4 + len)) != crc) throw new InvalidDataException($"{path}: CRC mismatch in PNG chunk {type}.");
            switch (type)
            {
                case "IHDR":
                    if (len != 13) throw new InvalidDataException($"{path}: IHDR chunk has {len} bytes, not 13.");
                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    int depth = body[8]; colourType = body[9];
                    if (depth != 8 || (colourType != 3 && colourType != 0))
                        throw new InvalidDataException($"{path}: expected an 8-bit palette or greyscale PNG, got bit depth {depth}, colour type {colourType}.");
                    if (body[12] != 0) throw new InvalidDataException($"{path}: interlaced PNGs are not supported.");
                    break;
                case "IDAT": idat.Write(body); break;
                case "IEND": sawEnd = true; break;
            }
            pos += 12 + len;
            if (sawEnd) break;
        }
        if (!sawEnd) throw new InvalidDataException($"{path}: truncated PNG (no IEND).");
        if (colourType < 0) throw new InvalidDataException($"{path}: PNG without an IHDR chunk.");
        if (width <= 0 || height <= 0 || (long)width * height > int.MaxValue / 2) throw new InvalidDataException($"{path}: invalid image size {width}x{height}.");
        var raw = new byte[(width + 1) * height];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress))
        {
            int read = 0;
            try { while (read < raw.Length) { int n = z.Read(raw, read, raw.Length - read); if (n == 0) break; read += n; } }
            catch (InvalidDataException e) { throw new InvalidDataException($"{path}: corrupt image data ({e.Message})."); }
            if (read != raw.Length) throw new InvalidDataException($"{path}: image data is shorter than {width}x{height}.");
        }
        var result = new byte[width * height];
        Unfilter(raw, result, width, height, path);
        return (result, width, height);
    }

    // PNG filters with 1 byte per pixel (bpp = 1): None, Sub, Up, Average, Paeth.
    private static void Unfilter(byte[] raw, byte[] outp, int w, int h, string path)
    {
        for (int y = 0; y < h; y++)
        {
            int f = raw[y * (w + 1)];
            int src = y * (w + 1) + 1, dst = y * w, prev = dst - w;
            for (int x = 0; x < w; x++)
            {
                int a = x > 0 ? outp[dst + x - 1] : 0, b = y > 0 ? outp[prev + x] : 0, c = x > 0 && y > 0 ? outp[prev + x - 1] : 0;
                int v = raw[src + x];
                outp[dst + x] = f switch
                {
                    0 => (byte)v,
                    1 => (byte)(v + a),
                    2 => (byte)(v + b),
                    3 => (byte)(v + ((a + b) >> 1)),
                    4 => (byte)(v + Paeth(a, b, c)),
                    _ => throw new InvalidDataException($"{path}: unknown PNG filter type {f} in row {y}."),
                };
            }
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream s, string type, byte[] body)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, body.Length);
        s.Write(len);
        var typeAndBody = new byte[4 + body.Length];
        System.Text.Encoding.ASCII.GetBytes(type, typeAndBody);
        body.CopyTo(typeAndBody, 4);
        s.Write(typeAndBody);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(typeAndBody));
        s.Write(len);
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    /// <summary>CRC-32 (ISO 3309) as the PNG specification defines it over chunk type + data.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (var b in bytes) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
