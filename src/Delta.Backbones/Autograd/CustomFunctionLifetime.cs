using System.Reflection;
using static TorchSharp.torch;

namespace Delta.Backbones.Autograd;

/// <summary>
/// Lifetime fixes that TorchSharp 0.107's custom autograd functions need before they save any memory. Pinned to
/// 0.107's private layout and checked on every use (every activation-free node goes through
/// <see cref="ReleaseOutputCache"/>, so every test of them does too), so an upgrade that changes it fails loudly
/// instead of silently keeping the memory.
/// <list type="bullet">
/// <item><b>Output cache.</b> After <c>forward</c>, TorchSharp allocates an <c>empty_like</c> of every output and keeps
/// it for the node's life, to materialise a missing output gradient as zeros — as much memory as the output itself
/// (real memory on CUDA). <see cref="ReleaseOutputCache"/> frees it right after <c>apply</c>; an undefined output
/// gradient then reaches <c>backward</c> as an undefined tensor, which the functions here never receive (their single
/// output always lies on the loss's path).</item>
/// <item><b>Returned gradients.</b> The tensors a <c>backward</c> returns are copied by the native engine, but their
/// managed wrappers stay alive, holding the memory, until the enclosing dispose scope ends (the whole training step)
/// or the garbage collector runs. <see cref="HandOver"/> keeps each wrapper only until the next activation-free
/// <c>backward</c> on the thread, when the engine has long taken its own reference.</item>
/// </list>
/// A <c>backward</c> runs as a callback from libtorch's engine: an exception there cannot reach the caller and ends the
/// process, so the functions here check everything they can in <c>forward</c> and nothing in <c>backward</c>.
/// </summary>
internal static class CustomFunctionLifetime
{
    private const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;
    private static readonly FieldInfo? NodeField = typeof(autograd.AutogradContext).GetField("_node", Private);
    // Node<T> differs per function type; its field is looked up once per type, not on every node.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, FieldInfo?> OutputCacheFields = new();

    [ThreadStatic] private static autograd.AutogradContext? lastForward;
    [ThreadStatic] private static List<Tensor>? handedOver;

    /// <summary>Throws if this TorchSharp no longer has the private fields the fixes rely on.</summary>
    internal static void EnsureSupported()
    {
        if (NodeField is null)
            throw new NotSupportedException("TorchSharp's AutogradContext has no private _node field: Delta's activation-free frozen-layer backward is written against TorchSharp 0.107 and needs review for this version.");
    }

    /// <summary>Call from <c>forward</c>: remembers the context whose node <see cref="ReleaseOutputCache"/> cleans, and
    /// whether its saved tensors go after its backward (<see cref="FrozenLayerBackward.SingleBackward"/>).</summary>
    internal static void RecordForward(autograd.AutogradContext ctx)
    {
        lastForward = ctx;
        ctx.save_data(ReleaseKey, FrozenLayerBackward.ReleasesAfterBackward);
    }

    /// <summary>Call first in <c>backward</c>, before reading what forward saved: a node whose saved tensors are gone
    /// cannot compute a gradient, and an exception cannot leave libtorch's engine, so the process ends with the cause.</summary>
    internal static void EnsureSavedTensors(autograd.AutogradContext ctx, string function)
    {
        if (ctx.get_data(ReleasedKey) is true)
            Environment.FailFast($"{function}: a second backward pass (retain_graph) through a graph recorded under FrozenLayerBackward.SingleBackward(), whose nodes have freed what they saved. Record that forward outside SingleBackward() or under FrozenLayerBackward.Standard().");
    }

    /// <summary>Call last in <c>backward</c>: frees the saved tensors if the node was recorded under
    /// <see cref="FrozenLayerBackward.SingleBackward"/>.</summary>
    internal static void ReleaseSavedIfSingleBackward(autograd.AutogradContext ctx)
    {
        if (ctx.get_data(ReleaseKey) is not true) return;
        ctx.save_data(ReleasedKey, true);
        ctx.Dispose();
    }

    private const string ReleaseKey = "delta.releaseAfterBackward";
    private const string ReleasedKey = "delta.released";

    /// <summary>Call right after <c>apply</c>: disposes the node's zero-gradient output cache.</summary>
    internal static void ReleaseOutputCache()
    {
        var ctx = lastForward;
        lastForward = null;
        if (ctx is null) return;
        EnsureSupported();
        var node = NodeField!.GetValue(ctx);
        if (node is null) return;
        var cacheField = OutputCacheFields.GetOrAdd(node.GetType(), type => type.GetField("_outputCache", Private))
            ?? throw new NotSupportedException("TorchSharp's autograd node has no private _outputCache field: Delta's activation-free frozen-layer backward is written against TorchSharp 0.107 and needs review for this version.");
        if (cacheField.GetValue(node) is not List<Tensor> cache) return;
        for (int i = 0; i < cache.Count; i++)
        {
            cache[i]?.Dispose();
            cache[i] = null!;
        }
    }

    /// <summary>Call at the start of <c>backward</c>: frees the wrappers of gradients returned by earlier calls.</summary>
    internal static void ReleaseHandedOver()
    {
        if (handedOver is null) return;
        foreach (var t in handedOver) t.Dispose();
        handedOver.Clear();
    }

    /// <summary>Call on a gradient about to be returned from <c>backward</c>: it survives the backward's dispose scope
    /// and is freed by the next <see cref="ReleaseHandedOver"/> (or the enclosing scope, whichever comes first).</summary>
    internal static Tensor HandOver(Tensor gradient)
    {
        (handedOver ??= []).Add(gradient.MoveToOuterDisposeScope());
        return gradient;
    }
}
