using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests;

internal static class TestTensors
{
    /// <summary>A seeded input [n, 3, size, size] drawn from its own generator.</summary>
    public static Tensor Input(int n, int size, ulong seed = 7)
    {
        using var g = new Generator(seed);
        return randn(new long[] { n, 3, size, size }, generator: g);
    }

    public static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (a - b).abs().max().item<float>();
    }
}
