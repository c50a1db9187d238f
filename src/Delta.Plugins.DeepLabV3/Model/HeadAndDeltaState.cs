using Delta.Abstractions.Training;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Model;

/// <summary>The task's tensors: Δ state under "delta.*", heads (weights and BN buffers) under "head.*". Used for checkpoints and patches.</summary>
public sealed class HeadAndDeltaState(DeepLabV3Model model) : ICheckpointable
{
    public IReadOnlyDictionary<string, Tensor> CheckpointState()
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var (k, v) in model.Backbone.DeltaState()) state["delta." + k] = v;
        foreach (var (k, v) in model.Heads.state_dict()) state["head." + k] = v;
        return state;
    }

    public void LoadCheckpointState(IReadOnlyDictionary<string, Tensor> state)
    {
        var delta = Section(state, "delta");
        var head = Section(state, "head");
        var unknown = state.Keys.Where(k => !k.StartsWith("delta.", StringComparison.Ordinal) && !k.StartsWith("head.", StringComparison.Ordinal)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"Unexpected tensors in DeepLab-V3 state: {string.Join(", ", unknown.Take(5))}.");
        model.Backbone.LoadDeltaState(delta);
        var (missing, unexpected) = model.Heads.load_state_dict(head.ToDictionary(kv => kv.Key, kv => kv.Value.to(model.Backbone.Device)), strict: false);
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new ArgumentException($"Head state does not match the model: missing [{string.Join(", ", missing.Take(5))}], unexpected [{string.Join(", ", unexpected.Take(5))}].");
    }

    private static Dictionary<string, Tensor> Section(IReadOnlyDictionary<string, Tensor> state, string prefix) =>
        state.Where(kv => kv.Key.StartsWith(prefix + ".", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[(prefix.Length + 1)..], kv => kv.Value);
}
