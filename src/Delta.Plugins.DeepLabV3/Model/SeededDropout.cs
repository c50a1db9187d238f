using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Model;

/// <summary>
/// Dropout (zero each element with probability p in training, scale the rest by 1/(1−p); identity in eval), with the
/// masks drawn from a generator the model owns instead of libtorch's default one. The trainer checkpoints that
/// generator's state (<see cref="Abstractions.Training.TrainLoop{TBatch}.Generators"/>), so a resumed run draws the
/// masks the uninterrupted one drew, on CUDA too, where TorchSharp 0.107 cannot save the device's default generator;
/// and jobs running side by side in one host cannot move each other's masks.
/// </summary>
public sealed class SeededDropout : nn.Module<Tensor, Tensor>
{
    private readonly double p;
    private readonly Generator generator;

    public SeededDropout(double p, Generator generator) : base(nameof(SeededDropout))
    {
        if (p is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p), p, "The dropout probability must be in [0, 1).");
        this.p = p;
        this.generator = generator;
    }

    public override Tensor forward(Tensor x)
    {
        if (!training || p == 0) return x.alias();
        using var scope = NewDisposeScope();
        var keep = empty_like(x).bernoulli_(1 - p, generator).div_(1 - p);   // not a graph input: no gradient flows to it
        return x.mul(keep).MoveToOuterDisposeScope();
    }
}
