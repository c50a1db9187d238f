using static TorchSharp.torch;

namespace Delta.Backbones.Architectures.ConvNeXts;

/// <summary>Drop path ("row" mode): in training, zero a residual branch per sample with probability p and
/// scale survivors by 1/(1−p) so the expectation is unchanged; identity in eval.</summary>
public sealed class StochasticDepth : nn.Module<Tensor, Tensor>
{
    public StochasticDepth(double probability) : base(nameof(StochasticDepth))
    {
        if (probability is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(probability), $"Drop-path rate must be in [0, 1), got {probability}.");
        Probability = probability;
        RegisterComponents();
    }

    public double Probability { get; }

    public override Tensor forward(Tensor x)
    {
        if (!training || Probability == 0) return x.alias();
        using var scope = NewDisposeScope();
        var survival = 1 - Probability;
        var keep = empty(new long[] { x.shape[0], 1, 1, 1 }, dtype: x.dtype, device: x.device).bernoulli_(survival);   // [N, 1, 1, 1]
        return (x * keep.div_(survival)).MoveToOuterDisposeScope();
    }
}
