using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Model;

/// <summary>
/// The R-CNN box parameterisation (Girshick et al., Fast R-CNN eq. 6–9): for a reference box with centre (xa, ya)
/// and size (wa, ha) and a target (x, y, w, h): tx = wx (x - xa)/wa, ty = wy (y - ya)/ha, tw = ww log(w/wa), th = wh log(h/ha).
/// The weights (1,1,1,1) for the RPN and (10,10,5,5) for the box head scale the targets to unit-ish variance.
/// Decoding clamps tw, th at log(1000/16) so an untrained head cannot overflow exp.
/// Shapes: Encode(refs [N, 4], targets [N, 4]) → [N, 4]; Decode(deltas [N, K*4], refs [N, 4]) → [N, K*4].
/// </summary>
public sealed class BoxCoder(double wx, double wy, double ww, double wh)
{
    public static readonly double ScaleClamp = Math.Log(1000.0 / 16);

    public Tensor Encode(Tensor references, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var (ax, ay, aw, ah) = CentreSize(references);
        var (gx, gy, gw, gh) = CentreSize(targets);
        var d = stack([wx * (gx - ax) / aw, wy * (gy - ay) / ah, ww * (gw / aw).log(), wh * (gh / ah).log()], 1);
        return d.MoveToOuterDisposeScope();
    }

    public Tensor Decode(Tensor deltas, Tensor references)
    {
        using var scope = NewDisposeScope();
        var (ax, ay, aw, ah) = CentreSize(references.to_type(deltas.dtype));
        var d = deltas.reshape(deltas.shape[0], -1, 4);                          // [N, K, 4]
        var cx = d[.., .., 0] / wx * aw[.., None] + ax[.., None];                // [N, K]
        var cy = d[.., .., 1] / wy * ah[.., None] + ay[.., None];
        var w = (d[.., .., 2] / ww).clamp_max(ScaleClamp).exp() * aw[.., None];
        var h = (d[.., .., 3] / wh).clamp_max(ScaleClamp).exp() * ah[.., None];
        var boxes = stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], 2); // [N, K, 4]
        return boxes.reshape(deltas.shape[0], -1).MoveToOuterDisposeScope();
    }

    private static (Tensor, Tensor, Tensor, Tensor) CentreSize(Tensor b)
    {
        var w = b[.., 2] - b[.., 0];
        var h = b[.., 3] - b[.., 1];
        return (b[.., 0] + 0.5 * w, b[.., 1] + 0.5 * h, w, h);
    }
}
