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

    /// <summary>Where the keep/drop draws come from: a generator of the task's (set by the registry for a trainable
    /// copy, on the model's device, and checkpointed with the task's other generators), so that a run is reproducible
    /// and resumable and jobs side by side do not draw from one another's stream; null = libtorch's default one.</summary>
    public Generator? Draws { get; set; }

    public override Tensor forward(Tensor x)
    {
        if (!training || Probability == 0) return x.alias();
        using var scope = NewDisposeScope();
        var survival = 1 - Probability;
        var keep = empty(new long[] { x.shape[0], 1, 1, 1 }, dtype: x.dtype, device: x.device).bernoulli_(survival, Draws);   // [N, 1, 1, 1]
        return (x * keep.div_(survival)).MoveToOuterDisposeScope();
    }
}
