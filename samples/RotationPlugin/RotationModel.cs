using Delta.Abstractions.Backbones;
using Delta.Abstractions.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RotationPlugin;

/// <summary>A Δ-backbone (shared frozen base + this task's Δ-modules) and a linear head over the pooled features to 4 rotations.</summary>
public sealed class RotationModel : ICheckpointable, IDisposable
{
    public IDeltaBackbone Backbone { get; }
    public Linear Head { get; }

    public RotationModel(IDeltaBackbone backbone, long seed)
    {
        Backbone = backbone;
        torch.manual_seed(seed);   // the head's initialisation is part of the job's reproducibility
        Head = nn.Linear(backbone.NumFeatures, RotationData.ClassNames.Length);
        Head.to(backbone.Device);
    }

    /// <summary>Δ parameters + head: the only tensors the optimizer sees.</summary>
    public IReadOnlyList<Parameter> TrainableParameters => [.. Backbone.TrainableParameters, .. Head.parameters()];

    /// <summary>[N, 3, S, S] → logits [N, 4].</summary>
    public Tensor Logits(Tensor images) => Head.call(Backbone.Forward(images).Pooled);

    public void Train(bool mode) { Backbone.Train(mode); Head.train(mode); }

    /// <summary>Patch layout: Δ tensors under "delta.", head under "head.".</summary>
    public IReadOnlyDictionary<string, Tensor> CheckpointState()
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var (k, v) in Backbone.DeltaState()) state["delta." + k] = v;
        foreach (var (k, v) in Head.state_dict()) state["head." + k] = v;
        return state;
    }

    public void LoadCheckpointState(IReadOnlyDictionary<string, Tensor> state)
    {
        Backbone.LoadDeltaState(Section(state, "delta"));
        using var ng = no_grad();
        foreach (var (k, v) in Head.state_dict())
        {
            if (!state.TryGetValue("head." + k, out var saved)) throw new InvalidDataException($"Patch has no tensor 'head.{k}'.");
            if (!saved.shape.SequenceEqual(v.shape)) throw new InvalidDataException($"Patch tensor 'head.{k}' has shape [{string.Join(",", saved.shape)}], expected [{string.Join(",", v.shape)}].");
            v.copy_(saved);
        }
    }

    private static Dictionary<string, Tensor> Section(IReadOnlyDictionary<string, Tensor> state, string prefix) =>
        state.Where(kv => kv.Key.StartsWith(prefix + ".", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[(prefix.Length + 1)..], kv => kv.Value);

    public void Dispose() { Head.Dispose(); Backbone.Dispose(); }
}
