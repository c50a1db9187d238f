using static TorchSharp.torch;

namespace Delta.Backbones.Architectures;

/// <summary>
/// One stage of a <see cref="StagedBackbone"/> as Δ-Networks sees it: an optional entry layer (ConvNeXt's
/// downsampling layer; null for ResNets, whose downsampling lives inside the first block) followed by the
/// sub-blocks B_1..B_k. The stage input h_0 is the output of <see cref="Entry"/> (or the stage's input when
/// there is none). <see cref="Shortcut"/> is the first block's own projection shortcut (ResNet "downsample"),
/// which maps h_0 to the shape of the block outputs to form n_0; null when shapes already agree.
/// <para>The modules are owned by the backbone; a stage is only a typed view of them.</para>
/// </summary>
public sealed record BackboneStage(
    string Name,
    nn.Module<Tensor, Tensor>? Entry,
    IReadOnlyList<nn.Module<Tensor, Tensor>> Blocks,
    nn.Module<Tensor, Tensor>? Shortcut,
    int InputChannels,
    int OutputChannels,
    int Stride)
{
    /// <summary>Entry layer, if any: x ↦ h_0.</summary>
    public Tensor Enter(Tensor x) => Entry is null ? x : Entry.call(x);

    /// <summary>The plain (un-patched) stage: h_k = B_k(…B_1(h_0)).</summary>
    public Tensor ForwardPlain(Tensor x)
    {
        var h = Enter(x);
        foreach (var block in Blocks)
        {
            var next = block.call(h);
            // Each block output is freed once the next block has read it (autograd keeps its own reference where
            // it needs one), so a stage holds one output at a time instead of all of them until the caller's scope ends.
            if (!ReferenceEquals(h, x)) h.Dispose();
            h = next;
        }
        return h;
    }
}
