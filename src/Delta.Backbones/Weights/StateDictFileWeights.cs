using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using TorchSharp;

namespace Delta.Backbones.Weights;

/// <summary>Weights from a file the user supplies (.dat, .safetensors, .pth/.pt/.bin), loaded strictly;
/// a torchvision classifier in the file is ignored. Such weights are assumed to expect torchvision's
/// ImageNet normalisation.</summary>
public sealed class StateDictFileWeights : IBaseWeightsSource
{
    public string Description => $"a state-dict file path ({string.Join(", ", StateDictFile.Extensions)})";

    public bool CanLoad(string weights, BackboneInfo arch) => StateDictFile.IsSupported(weights);

    public IInputPreprocessing Load(torch.nn.Module baseModel, string weights, BackboneInfo arch)
    {
        var state = StateDictFile.Read(weights);
        try { StateDictMatcher.LoadStrict(baseModel, state, weights, StateDictMatcher.ClassifierPrefixes); }
        finally { foreach (var t in state.Values) t.Dispose(); }
        return ImageNetPreprocessing.Instance;
    }
}
