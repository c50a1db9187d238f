using Delta.Abstractions.Training;
using TorchSharp;
using TorchSharp.Modules;
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

    /// <summary>
    /// A linear head [inFeatures → classes] with nn.Linear's default init range drawn from its own generator, so a
    /// test's loss (and every gradient it compares) is the same on every run whatever other tests draw meanwhile
    /// from the process-wide default generator.
    /// </summary>
    public static Linear Head(long inFeatures, long classes, ulong seed = 11)
    {
        var head = DefaultGenerator.LeftAlone(() => nn.Linear(inFeatures, classes));
        using var g = new Generator(seed);
        var bound = 1 / Math.Sqrt(inFeatures);
        using (no_grad())
        {
            head.weight!.uniform_(-bound, bound, g);
            head.bias!.uniform_(-bound, bound, g);
        }
        return head;
    }

    public static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (a - b).abs().max().item<float>();
    }
}
