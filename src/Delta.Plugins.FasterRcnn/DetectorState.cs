using Delta.Abstractions.Training;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn;

/// <summary>The task's tensors: Δ state under "delta.*", detector heads (FPN, RPN head, box head) under "head.*".
/// Used for checkpoints and patches; loading is strict (a missing or extra head tensor is an error).</summary>
public sealed class DetectorState(Model.FasterRcnn model) : ICheckpointable
{
    public IReadOnlyDictionary<string, Tensor> CheckpointState()
    {
        var state = new Dictionary<string, Tensor>();
        foreach (var (k, v) in model.Backbone.DeltaState()) state["delta." + k] = v;
        foreach (var (k, v) in model.state_dict()) state["head." + k] = v;
        return state;
    }

    public void LoadCheckpointState(IReadOnlyDictionary<string, Tensor> state)
    {
        var unknown = state.Keys.Where(k => !k.StartsWith("delta.", StringComparison.Ordinal) && !k.StartsWith("head.", StringComparison.Ordinal)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"Unexpected tensors in Faster R-CNN state: {string.Join(", ", unknown.Take(5))}.");
        model.Backbone.LoadDeltaState(Section(state, "delta"));
        var head = Section(state, "head").ToDictionary(kv => kv.Key, kv => kv.Value.to(model.Backbone.Device));
        var (missing, unexpected) = model.load_state_dict(head, strict: false);
        if (missing.Count > 0 || unexpected.Count > 0)
            throw new ArgumentException($"Detector head state does not match the model: missing [{string.Join(", ", missing.Take(5))}], unexpected [{string.Join(", ", unexpected.Take(5))}].");
    }

    private static Dictionary<string, Tensor> Section(IReadOnlyDictionary<string, Tensor> state, string prefix) =>
        state.Where(kv => kv.Key.StartsWith(prefix + ".", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[(prefix.Length + 1)..], kv => kv.Value);
}
