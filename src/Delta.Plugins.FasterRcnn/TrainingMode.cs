using Delta.Abstractions.Backbones;

namespace Delta.Plugins.FasterRcnn;

/// <summary>What trains besides the detector heads (FPN, RPN head, box head), which always train. Option names in brackets.</summary>
public enum TrainingMode
{
    /// <summary>[delta] The paper's: the shared frozen backbone + this task's Δ-modules (job "delta.stages" ≥ 1).
    /// Zero drop: the shared base never changes and dropping Δ gives it back bit for bit.</summary>
    Delta,
    /// <summary>[frozen] The shared frozen backbone without Δ-modules (job "delta.stages" = 0); only the heads train.</summary>
    Frozen,
    /// <summary>[finetune] Full fine-tuning baseline: a private trainable copy of the base (job "delta.stages" = 0).
    /// NO zero-drop guarantee for the task's backbone: its weights move, and its "patch" is a whole backbone copy
    /// ("delta.base.*"). The registry's shared base is still untouched. The copy's BatchNorm keeps the pretrained
    /// running statistics (eval), as detection fine-tuning does at a few images per batch; its affine weights train.</summary>
    FineTune,
}

/// <summary>Option names of <see cref="TrainingMode"/> and the backbone request each mode needs.</summary>
public static class TrainingModes
{
    public static IReadOnlyDictionary<string, TrainingMode> Names { get; } = new Dictionary<string, TrainingMode>(StringComparer.OrdinalIgnoreCase)
    {
        ["delta"] = TrainingMode.Delta,
        ["frozen"] = TrainingMode.Frozen,
        ["finetune"] = TrainingMode.FineTune,
    };

    public static bool TryParse(string? name, out TrainingMode mode) => Names.TryGetValue(name ?? "", out mode);

    public static TrainingMode Parse(string name) => TryParse(name, out var mode) ? mode
        : throw new ArgumentException($"Unknown Faster R-CNN mode '{name}'. Valid: {string.Join(", ", Names.Keys)}.");

    public static string Name(TrainingMode mode) => Names.First(kv => kv.Value == mode).Key;

    /// <summary>The backbone for <paramref name="mode"/>. The job's Δ section must agree with the mode (no silent
    /// override): Δ stages ≥ 1 for "delta", 0 for "frozen" and "finetune".</summary>
    public static BackboneRequest Request(TrainingMode mode, string architecture, string weights, DeltaConfig delta, torch.Device device, long seed)
    {
        if (mode == TrainingMode.Delta && delta.Stages == 0)
            throw new ArgumentException("options.mode 'delta' needs Δ-modules: set delta.stages to 1, 2 or 4 (or use options.mode 'frozen' for the plain frozen backbone).");
        if (mode != TrainingMode.Delta && delta.Stages != 0)
            throw new ArgumentException($"options.mode '{Name(mode)}' trains without Δ-modules: set delta.stages to 0 (got {delta.Stages}).");
        return new BackboneRequest
        {
            Architecture = architecture, Weights = weights, Delta = delta, Device = device, Seed = seed,
            TrainableBase = mode == TrainingMode.FineTune,
        };
    }
}
