using TorchSharp;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Models;

/// <summary>
/// A patched classifier: a Δ-backbone view of the shared frozen base plus a linear head φ on the pooled
/// features. Its trainable state (and so the patch) is the Δ-modules ("delta.*") and the head ("head.*").
/// </summary>
public sealed class ClassifierModel(IDeltaBackbone backbone, int numClasses) : ICheckpointable, IDisposable
{
    /// <summary>The backbone, asked for no stage outputs: a classifier reads only the pooled vector.</summary>
    public IDeltaBackbone Backbone { get; } = ReadingPooledOnly(backbone);
    public Linear Head { get; } = Init(nn.Linear(backbone.NumFeatures, numClasses), backbone.Device);
    public int NumClasses { get; } = numClasses;

    private static Linear Init(Linear head, Device device) { head.to(device); return head; }

    private static IDeltaBackbone ReadingPooledOnly(IDeltaBackbone backbone)
    {
        backbone.ReturnStages = [];
        return backbone;
    }

    /// <summary>x [N, 3, H, W] preprocessed ↦ logits [N, classes].</summary>
    public Tensor Logits(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Head.call(Backbone.Forward(x).Pooled).MoveToOuterDisposeScope();
    }

    /// <summary>Re-draws the head like nn.Linear's default init from <paramref name="seed"/> only (<see cref="SeededLinearInit"/>):
    /// reproducible whatever else draws from the process-global generator at the same time (concurrent jobs, parallel tests).</summary>
    public void ResetHead(long seed) => SeededLinearInit.Apply(Head, seed);

    public void SetTrainMode(bool mode) { Backbone.Train(mode); Head.train(mode); }

    public IReadOnlyList<Parameter> TrainableParameters => Backbone.TrainableParameters.Concat(Head.parameters()).ToList();
    public long TrainableParameterCount => Backbone.TrainableParameterCount + Head.parameters().Sum(p => p.numel());

    public IReadOnlyDictionary<string, Tensor> CheckpointState()
    {
        var state = new Dictionary<string, Tensor>(Backbone.DeltaState());   // keys already start with "delta." / "base."
        foreach (var (k, t) in Head.state_dict()) state["head." + k] = t;
        return state;
    }

    public void LoadCheckpointState(IReadOnlyDictionary<string, Tensor> state)
    {
        var head = state.Where(kv => kv.Key.StartsWith("head.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[5..], kv => kv.Value);
        var rest = state.Where(kv => !kv.Key.StartsWith("head.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
        Backbone.LoadDeltaState(rest);
        var (missing, unexpected) = Head.load_state_dict(head, strict: false);
        if (missing.Count + unexpected.Count > 0)
            throw new InvalidDataException($"head weights do not fit: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}].");
    }

    public void Dispose() { Head.Dispose(); Backbone.Dispose(); }
}
