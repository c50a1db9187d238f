using Delta.Abstractions.Backbones;
using OpenCvSharp;
using static TorchSharp.torch;

namespace Delta.Data.Tests;

/// <summary>A temporary folder removed after the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("delta-data-tests-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

/// <summary>(x − mean) / std per channel, as a torchvision-style backbone would ask.</summary>
public sealed class MeanStdPreprocessing(float[] mean, float[] std) : IInputPreprocessing
{
    public static readonly MeanStdPreprocessing Identity = new([0, 0, 0], [1, 1, 1]);
    public string Description => "test mean/std";
    public IReadOnlyList<float> Mean => mean;
    public IReadOnlyList<float> Std => std;
    public Tensor Apply(Tensor rgb01)
    {
        using var m = tensor(mean, device: rgb01.device).reshape(1, 3, 1, 1);
        using var s = tensor(std, device: rgb01.device).reshape(1, 3, 1, 1);
        return (rgb01 - m).div_(s);
    }
}

public static class Pngs
{
    /// <summary>Writes a BGR image whose pixel (y, x) = (b, g, r) = (seed + x, seed + 2y, seed + x + y) mod 256.</summary>
    public static void Gradient(string path, int width, int height, int seed)
    {
        using var mat = new Mat(height, width, MatType.CV_8UC3);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                mat.Set(y, x, new Vec3b((byte)((seed + x) % 256), (byte)((seed + 2 * y) % 256), (byte)((seed + x + y) % 256)));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        Cv2.ImWrite(path, mat);
    }
}
