using static TorchSharp.torch;

namespace Delta.Backbones.Autograd;

/// <summary>
/// Whether frozen convolutions, eval-mode BatchNorms and the ReLUs between them run as <b>activation-free</b>
/// autograd nodes (the default) or as libtorch's own ops.
/// <para><b>Why.</b> Δ-training needs gradients to flow through the frozen base (to reach every stage's Δ-module), but
/// never into its weights. libtorch's convolution node saves its input whether or not its weight needs a gradient,
/// a BatchNorm node saves its input, a ReLU its output: a frozen network that only passes gradients to its input keeps
/// as many activations as full fine-tuning. None of them is needed: the gradient of a convolution with respect to its
/// input is a transposed convolution with the same weight, an eval-mode BN is a per-channel scale γ/√(σ²+ε), and a
/// ReLU only needs to know where its output was positive. The frozen units therefore save one bit per ReLU output
/// (a packed mask, <see cref="ReluMask"/>) and nothing else; see <see cref="FrozenConvUnitFunction"/> and <see cref="MaskedReluFunction"/>.</para>
/// <para>Forward values are the very same ops, so outputs stay bit-identical. Gradients with respect to the input are
/// the same functions computed by a transposed convolution instead of libtorch's convolution-backward kernel: equal up
/// to floating-point summation order. Outside <see cref="SingleBackward"/> what the nodes saved lives as long as the graph
/// (TorchSharp's custom nodes keep their saved tensors until then), so <c>retain_graph</c> works there. <see cref="Standard"/> gives libtorch's own nodes back, to compare
/// or to rule this out when chasing a numerical difference.</para>
/// </summary>
public static class FrozenLayerBackward
{
    /// <summary>Environment variable that turns the activation-free nodes off for the whole process when set to
    /// <c>standard</c>: libtorch's own nodes everywhere, e.g. to rule them out when chasing a numerical difference.</summary>
    public const string EnvironmentVariable = "DELTA_FROZEN_BACKWARD";

    private static readonly bool StandardForProcess =
        string.Equals(Environment.GetEnvironmentVariable(EnvironmentVariable), "standard", StringComparison.OrdinalIgnoreCase);

    [ThreadStatic] private static int standardScopes;
    [ThreadStatic] private static int singleBackwardScopes;

    /// <summary>True unless a <see cref="Standard"/> scope is open on this thread or <see cref="EnvironmentVariable"/>
    /// says <c>standard</c>.</summary>
    public static bool ActivationFree => standardScopes == 0 && !StandardForProcess;

    /// <summary>Until disposed, frozen layers on this thread use libtorch's own autograd nodes (which keep their
    /// inputs). Scopes nest.</summary>
    public static IDisposable Standard()
    {
        standardScopes++;
        return new Restore(() => standardScopes--);
    }

    /// <summary>
    /// Until disposed, activation-free nodes recorded on this thread free what they saved as soon as their backward has
    /// run, as libtorch's own nodes do when the graph is not retained. Without it they keep it until the graph is freed
    /// (TorchSharp's custom nodes cannot tell whether the graph is retained), which keeps every stage's masks and skip
    /// sources through the whole backward pass. Open it around a forward pass whose graph is walked exactly once — the
    /// host's training step does. A second backward through such a node (<c>retain_graph</c>) cannot be reported as
    /// an exception from inside libtorch's engine; it ends the process with a message naming this scope.
    /// </summary>
    public static IDisposable SingleBackward()
    {
        singleBackwardScopes++;
        return new Restore(() => singleBackwardScopes--);
    }

    /// <summary>Whether nodes recorded now free their saved tensors after their backward (<see cref="SingleBackward"/>).</summary>
    internal static bool ReleasesAfterBackward => singleBackwardScopes > 0;

    /// <summary>An activation-free node applies when autograd will record this op, the input needs a gradient and the
    /// weight does not (a frozen layer on the gradient path to a Δ-module).</summary>
    internal static bool Applies(Tensor input, Tensor weight) =>
        ActivationFree && is_grad_enabled() && input.requires_grad && !weight.requires_grad;

    private sealed class Restore(Action close) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            close();
        }
    }
}
