using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Transfer;

/// <summary>Two augmented views of the same images (preprocessed, on the device) and their labels [B] int64.
/// <see cref="KeyView"/> is null when the loader was asked for one view only (methods without a key encoder).</summary>
public sealed class TwoViewBatch(Tensor queryView, Tensor? keyView, Tensor labels) : IDisposable
{
    /// <summary>[B, 3, H, W]</summary>
    public Tensor QueryView { get; } = queryView;
    /// <summary>[B, 3, H, W], augmented independently of <see cref="QueryView"/>.</summary>
    public Tensor? KeyView { get; } = keyView;
    public Tensor Labels { get; } = labels;
    public void Dispose() { QueryView.Dispose(); KeyView?.Dispose(); Labels.Dispose(); }
}
