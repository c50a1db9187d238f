using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Models;

/// <summary>
/// nn.Linear's default initialisation (weight and bias ~ U(±1/√fan_in), i.e. kaiming_uniform with a = √5), drawn from
/// a generator seeded with the given seed alone. It draws the very values <c>manual_seed(seed)</c> followed by
/// <c>nn.Linear(…)</c> would (tested), without touching the process-global generator, which concurrent jobs, parallel
/// tests and earlier methods of an experiment also draw from.
/// </summary>
public static class SeededLinearInit
{
    public static void Apply(Linear linear, long seed)
    {
        using var generator = new Generator(unchecked((ulong)seed), linear.weight.device);
        var bound = 1.0 / Math.Sqrt(linear.weight.shape[1]);
        using var noGrad = no_grad();
        linear.weight.uniform_(-bound, bound, generator);
        linear.bias?.uniform_(-bound, bound, generator);
    }
}
