using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Models;

/// <summary>ADDA's domain discriminator (Tzeng et al. 2017, §4: two hidden layers of 500 with ReLU):
/// features [N, D] → one logit [N] ("this feature came from the source encoder").</summary>
public sealed class DomainDiscriminator : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public DomainDiscriminator(int features, int hidden = 500) : base(nameof(DomainDiscriminator))
    {
        layers = nn.Sequential(
            ("fc1", nn.Linear(features, hidden)), ("relu1", nn.ReLU()),
            ("fc2", nn.Linear(hidden, hidden)), ("relu2", nn.ReLU()),
            ("out", nn.Linear(hidden, 1)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor features)
    {
        using var logits = layers.call(features);
        return logits.squeeze(1);
    }
}
