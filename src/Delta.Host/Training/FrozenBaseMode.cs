namespace Delta.Host.Training;

/// <summary>How the verbs run a frozen base (docs/PERFORMANCE.md has each mode's speed and numerical difference).</summary>
public enum FrozenBaseMode
{
    /// <summary>The base as loaded, fp32: Δ off gives the base model bit for bit. The default.</summary>
    Exact,
    /// <summary><c>--fused</c>: fp32, BatchNorms folded into the convolutions, channels-last — the graph ONNX Runtime
    /// runs; equal to the exact mode up to fp32 rounding.</summary>
    Fused,
    /// <summary><c>--fast</c>: bf16, BatchNorms folded, channels-last; Δ-modules and heads fp32.</summary>
    Fast,
    /// <summary><c>--fast --delta-bf16</c>: the fast mode with the Δ convolutions computed in bf16 from fp32 weights.</summary>
    FastDeltaBf16,
    /// <summary><c>--fast --autocast</c>: the fast mode with the Δ-modules computing as under PyTorch's bf16 autocast —
    /// Δ convolutions, gated skip sums and their BNs in bf16; parameters, gradients, BN statistics, gates and heads fp32.</summary>
    FastAutocast,
}

/// <summary>The job file's names for the modes (<c>JobSpec.FrozenBase</c>).</summary>
public static class FrozenBaseModeNames
{
    private static readonly IReadOnlyDictionary<string, FrozenBaseMode> ByName = new Dictionary<string, FrozenBaseMode>(StringComparer.OrdinalIgnoreCase)
    {
        ["exact"] = FrozenBaseMode.Exact,
        ["fused"] = FrozenBaseMode.Fused,
        ["fast"] = FrozenBaseMode.Fast,
        ["fast-delta-bf16"] = FrozenBaseMode.FastDeltaBf16,
        ["fast-autocast"] = FrozenBaseMode.FastAutocast,
    };

    /// <summary>The mode a job file names, or null (with the valid names in <paramref name="valid"/>) when it names none.</summary>
    public static FrozenBaseMode? Parse(string name, out string valid)
    {
        valid = string.Join(", ", ByName.Keys);
        return ByName.TryGetValue(name.Trim(), out var mode) ? mode : null;
    }

    public static string NameOf(FrozenBaseMode mode) => ByName.First(kv => kv.Value == mode).Key;
}
