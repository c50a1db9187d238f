using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Host.Training;

/// <summary>
/// Scales the gradients so that their joint L2 norm is at most <c>maxNorm</c>, as PyTorch's
/// <c>torch.nn.utils.clip_grad_norm_</c> does (coefficient maxNorm / (norm + 1e-6), clamped to 1, applied to every
/// gradient) — but without reading the norm back. TorchSharp 0.107's <c>clip_grad_norm_</c> returns the norm as a
/// <c>double</c>, which makes the host wait for the GPU on every step; here the norm and the coefficient stay on the
/// device and the multiplication is queued like any other kernel.
/// </summary>
public static class GradientClipping
{
    /// <summary>Clips in place; returns the total norm before clipping as a 0-d tensor on the gradients' device
    /// (reading it is the caller's choice, and a synchronisation). Parameters without a gradient are skipped.</summary>
    public static Tensor ClipByTotalNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        if (!(maxNorm > 0) || double.IsInfinity(maxNorm)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The maximum norm must be positive and finite.");
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Cast<Tensor>().ToList();
        using var scope = NewDisposeScope();
        if (grads.Count == 0) return tensor(0f).MoveToOuterDisposeScope();
        var total = stack(grads.Select(g => linalg.vector_norm(g, 2).to_type(ScalarType.Float32))).norm();
        var coefficient = (total + 1e-6).reciprocal_().mul_(maxNorm).clamp_max_(1.0);
        foreach (var g in grads) g.mul_(coefficient.to_type(g.dtype));
        return total.MoveToOuterDisposeScope();
    }
}
