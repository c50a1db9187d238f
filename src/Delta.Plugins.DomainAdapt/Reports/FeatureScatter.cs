using Delta.Data.Rendering;
using Delta.Plugins.DomainAdapt.Methods;
using Delta.Plugins.DomainAdapt.Models;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Reports;

/// <summary>
/// The before/after picture: pooled features of source test images (source encoder), target test images
/// before adaptation (source encoder) and after (target encoder), projected together on their first two
/// principal components (one PCA for all three, so positions are comparable).
/// </summary>
public static class FeatureScatter
{
    public static void Write(string path, string title, DomainEncoder source, DomainEncoder target, Tensor sourceImages, Tensor targetImages, int perGroup = 300)
    {
        using var scope = NewDisposeScope();
        var s = Evaluation.Features(source, sourceImages.narrow(0, 0, Math.Min(perGroup, sourceImages.shape[0])));
        var before = Evaluation.Features(source, targetImages.narrow(0, 0, Math.Min(perGroup, targetImages.shape[0])));
        var after = Evaluation.Features(target, targetImages.narrow(0, 0, Math.Min(perGroup, targetImages.shape[0])));
        var projected = Project2D(cat([s, before, after], 0));                 // [Ns + 2Nt, 2]
        var xy = projected.data<float>().ToArray();
        var groups = new[] { ("source", s.shape[0]), ("target before adaptation", before.shape[0]), ("target after adaptation", after.shape[0]) };
        var points = new List<(string, double, double)>();
        int row = 0;
        foreach (var (name, n) in groups)
            for (int i = 0; i < n; i++, row++) points.Add((name, xy[2 * row], xy[2 * row + 1]));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Charts.Scatter(path, title, points);
    }

    /// <summary>Rows of <paramref name="x"/> [N, D] on the top two principal axes → [N, 2] (CPU, float).</summary>
    public static Tensor Project2D(Tensor x)
    {
        using var scope = NewDisposeScope();
        var centred = x.to_type(ScalarType.Float32).cpu() - x.to_type(ScalarType.Float32).cpu().mean([0], keepdim: true);
        var (_, _, vh) = linalg.svd(centred, fullMatrices: false);             // vh [min(N, D), D]
        return centred.matmul(vh.narrow(0, 0, 2).t()).contiguous().MoveToOuterDisposeScope();
    }
}
