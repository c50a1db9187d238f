using Delta.Abstractions.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Models;

/// <summary>The task head φ: pooled features [N, D] → class logits [N, K]. Trained on source labels only
/// and reused unchanged on the target side (ADDA classifies target images with the source classifier).</summary>
public sealed class SourceClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc;

    public SourceClassifier(int features, int classes) : base(nameof(SourceClassifier))
    {
        fc = nn.Linear(features, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor features) => fc.call(features);

    /// <summary>A classifier whose default init is drawn right after seeding the default generator with
    /// <paramref name="seed"/>, under its lock (<see cref="DefaultGenerator"/>), then moved to <paramref name="device"/>.</summary>
    public static SourceClassifier Seeded(int features, int classes, long seed, Device device)
    {
        SourceClassifier classifier;
        using (DefaultGenerator.Seeded(seed)) classifier = new SourceClassifier(features, classes);
        classifier.to(device);
        return classifier;
    }
}
