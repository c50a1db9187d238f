using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Transfer;

/// <summary>Two augmented views of the same images (preprocessed, on the device) and their labels [B] int64.
/// <see cref="KeyView"/> is null when the loader was asked for one view only (methods without a key encoder).
/// <see cref="HostLabels"/> are the same labels on the host, for code that indexes by class (reading
/// <see cref="Labels"/> back from a GPU would make the host wait every step).</summary>
public sealed class TwoViewBatch(Tensor queryView, Tensor? keyView, Tensor labels, long[] hostLabels) : IDisposable
{
    /// <summary>[B, 3, H, W]</summary>
    public Tensor QueryView { get; } = queryView;
    /// <summary>[B, 3, H, W], augmented independently of <see cref="QueryView"/>.</summary>
    public Tensor? KeyView { get; } = keyView;
    public Tensor Labels { get; } = labels;
    public long[] HostLabels { get; } = hostLabels;
    public void Dispose() { QueryView.Dispose(); KeyView?.Dispose(); Labels.Dispose(); }
}
