using Delta.Abstractions.Backbones;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Baselines;

/// <summary>
/// PAINT (Ilharco et al. 2022): fine-tune the whole backbone on the new task, then interpolate every base tensor
/// θ(α) = (1−α)·θ_base + α·θ_ft (BatchNorm running statistics too; the integer num_batches_tracked is taken
/// from the fine-tuned model). α = 0 is the base model exactly, α = 1 the fine-tuned one exactly.
/// </summary>
public static class Paint
{
    public static readonly double[] Alphas = Enumerable.Range(0, 11).Select(i => i / 10.0).ToArray();

    /// <summary>Interpolated base state: keys as in the fine-tuned copy's DeltaState ("base.*").</summary>
    public static Dictionary<string, Tensor> Interpolate(IReadOnlyDictionary<string, Tensor> baseState, IReadOnlyDictionary<string, Tensor> fineTuned, double alpha)
    {
        var result = new Dictionary<string, Tensor>();
        using var noGrad = no_grad();
        foreach (var (key, ft) in fineTuned)
        {
            if (!baseState.TryGetValue(key, out var b)) throw new ArgumentException($"PAINT: '{key}' is not in the base state.");
            if (!ft.is_floating_point()) { result[key] = ft.clone(); continue; }
            // Exact at the ends: α = 0 copies θ_base, α = 1 copies θ_ft (no rounding from 0·x + 1·y).
            result[key] = alpha == 0 ? b.to(ft.device).clone() : alpha == 1 ? ft.clone() : (b.to(ft.device) * (1 - alpha) + ft * alpha);
        }
        return result;
    }

    /// <summary>The shared base's state under the trainable-copy key names ("base." prefix), for interpolation.</summary>
    public static Dictionary<string, Tensor> BaseStateAsCopyKeys(nn.Module sharedBase) =>
        sharedBase.state_dict().ToDictionary(kv => "base." + kv.Key, kv => kv.Value);
}
