using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// Anchors for one feature level (Faster R-CNN §3.1.1): A = |sizes| x |ratios| base boxes centred on each cell's
/// top-left image pixel position (x = j * stride, as torchvision), with area size² and h/w = ratio, rounded to integers.
/// Shapes: Generate → [H * W * A, 4] xyxy, ordered (h, w, a), the same order as the RPN head's [N, A, H, W] outputs
/// after permute(0, 2, 3, 1).
/// </summary>
public sealed class AnchorGenerator(IReadOnlyList<double> sizes, IReadOnlyList<double> aspectRatios)
{
    public int AnchorsPerLocation => sizes.Count * aspectRatios.Count;

    /// <summary>[A, 4] base anchors centred at 0 (ratio-major order, as torchvision).</summary>
    public Tensor BaseAnchors(Device device)
    {
        var list = new List<float>();
        foreach (var r in aspectRatios)
        {
            double hr = Math.Sqrt(r), wr = 1 / hr;
            foreach (var s in sizes)
            {
                double w = wr * s, h = hr * s;
                list.AddRange([(float)Math.Round(-w / 2), (float)Math.Round(-h / 2), (float)Math.Round(w / 2), (float)Math.Round(h / 2)]);
            }
        }
        return tensor(list.ToArray(), device: device).reshape(-1, 4);
    }

    public Tensor Generate(long height, long width, long stride, Device device)
    {
        using var scope = NewDisposeScope();
        var sx = arange(0, width, device: device, dtype: ScalarType.Float32) * stride;
        var sy = arange(0, height, device: device, dtype: ScalarType.Float32) * stride;
        var grid = meshgrid([sy, sx], indexing: "ij");                              // 2 x [H, W]
        var shifts = stack([grid[1], grid[0], grid[1], grid[0]], 2).reshape(-1, 1, 4); // [H*W, 1, 4]
        var anchors = shifts + BaseAnchors(device).unsqueeze(0);                      // [H*W, A, 4]
        return anchors.reshape(-1, 4).MoveToOuterDisposeScope();
    }
}
