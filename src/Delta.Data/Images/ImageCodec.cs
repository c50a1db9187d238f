using OpenCvSharp;
using static TorchSharp.torch;

namespace Delta.Data.Images;

/// <summary>
/// Image files ↔ tensors with OpenCvSharp. Decoded images are float32 RGB [3, H, W] in [0, 1] (greyscale files
/// become 3 equal channels); the Mat → tensor step is one memcpy (TORCHSHARP_NOTES §8).
/// </summary>
public static class ImageCodec
{
    public static Tensor ReadRgb(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ImageDecodeException(path, $"cannot be read ({e.Message})."); }
        if (bytes.Length == 0) throw new ImageDecodeException(path, "file is empty.");
        if (IsTruncatedJpeg(bytes)) throw new ImageDecodeException(path, "truncated JPEG (no end-of-image marker); libjpeg would return a partly grey image.");
        using var mat = Cv2.ImDecode(bytes, ImreadModes.Color);
        if (mat.Empty()) throw new ImageDecodeException(path, "not a decodable image (corrupt or unsupported format).");
        return MatToRgbTensor(mat);
    }

    /// <summary>A JPEG (FF D8 FF) whose last 4 KiB hold no end-of-image marker (FF D9) was cut off: libjpeg only warns
    /// "premature end of data" and fills the rest with grey, which would be a silent wrong result.</summary>
    private static bool IsTruncatedJpeg(byte[] b)
    {
        if (b.Length < 3 || b[0] != 0xFF || b[1] != 0xD8 || b[2] != 0xFF) return false;
        for (int i = b.Length - 2; i >= Math.Max(2, b.Length - 4096); i--)
            if (b[i] == 0xFF && b[i + 1] == 0xD9) return false;
        return true;
    }

    /// <summary>CV_8UC3 BGR Mat → float RGB [3, H, W] in [0, 1].</summary>
    public static unsafe Tensor MatToRgbTensor(Mat bgr)
    {
        if (bgr.Type() != MatType.CV_8UC3) throw new ArgumentException($"Expected an 8-bit 3-channel image, got {bgr.Type()}.");
        using var contiguous = bgr.IsContinuous() ? null : bgr.Clone();
        var m = contiguous ?? bgr;
        using var scope = NewDisposeScope();
        var hwc = empty([m.Rows, m.Cols, 3], dtype: ScalarType.Byte);
        new ReadOnlySpan<byte>((void*)m.Data, m.Rows * m.Cols * 3).CopyTo(hwc.bytes);
        return hwc.permute(2, 0, 1).flip(0).contiguous().to_type(ScalarType.Float32).div_(255f).MoveToOuterDisposeScope();
    }

    /// <summary>Float RGB [3, H, W] in [0, 1] → CV_8UC3 BGR Mat (caller disposes).</summary>
    public static unsafe Mat RgbTensorToMat(Tensor chw)
    {
        using var scope = NewDisposeScope();
        var rgb = chw.dim() == 3 && chw.shape[0] == 1 ? chw.expand(3, -1, -1) : chw;
        var hwc = rgb.detach().cpu().flip(0).permute(1, 2, 0).mul(255f).round_().clamp_(0, 255).to_type(ScalarType.Byte).contiguous();
        var mat = new Mat((int)hwc.shape[0], (int)hwc.shape[1], MatType.CV_8UC3);
        hwc.bytes.CopyTo(new Span<byte>((void*)mat.Data, (int)hwc.numel()));
        return mat;
    }

    /// <summary>Writes float RGB [3, H, W] (or grey [1, H, W]) in [0, 1] as an 8-bit PNG.</summary>
    public static void WritePng(string path, Tensor chw)
    {
        using var mat = RgbTensorToMat(chw);
        WritePng(path, mat);
    }

    public static void WritePng(string path, Mat image)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (!Cv2.ImWrite(path, image)) throw new IOException($"{path}: could not write the image.");
    }
}
