using Delta.Abstractions.Backbones;
using Delta.Backbones.Delta;
using Delta.Data.Images;
using Delta.Data.Rendering;
using OpenCvSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Reports;

/// <summary>
/// The gate matrices Λ of a Δ-backbone for ONE image (paper Figs 3–6): per Δ stage a k×k matrix, rows = source
/// n_i (i = 0..k−1), columns = target h_j (j = 1..k), value λ_{i,j}; NaN below the diagonal (i ≥ j: no such skip).
/// Written as one heat map per stage and a composite picture with the image beside the stage maps.
/// </summary>
public static class GateMaps
{
    /// <summary>Λ of each Δ stage for one preprocessed image [3, H, W] or [1, 3, H, W], from one eval forward pass.</summary>
    public static Dictionary<string, double[,]> ForImage(IDeltaBackbone backbone, Tensor image)
    {
        if (backbone.DeltaStages.Count == 0) throw new ArgumentException("The backbone has no Δ stages: there are no gates to show.");
        if (!(image.dim() == 3 && image.shape[0] == 3) && !(image.dim() == 4 && image.shape[0] == 1 && image.shape[1] == 3))
            throw new ArgumentException($"Expected one image [3, H, W] or [1, 3, H, W], got [{string.Join(", ", image.shape)}].");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var previous = backbone.ReturnGates;
        backbone.ReturnGates = true;
        try
        {
            var x = image.dim() == 3 ? image.unsqueeze(0) : image;
            var gates = backbone.Forward(x.to(backbone.Device)).Gates!;
            var result = new Dictionary<string, double[,]>();
            foreach (var (stage, g) in gates)
            {
                var values = g[0].cpu().to_type(ScalarType.Float64).data<double>().ToArray();   // [k(k+1)/2], pair order of GatePairs
                result[stage] = Matrix(values, backbone.BlocksPerDeltaStage[stage]);
            }
            return result;
        }
        finally { backbone.ReturnGates = previous; }
    }

    /// <summary>Λ in <see cref="GatePairs"/> order ↦ k×k matrix [i, j−1] = λ_{i,j}, NaN where i ≥ j.</summary>
    public static double[,] Matrix(IReadOnlyList<double> pairs, int blocks)
    {
        if (pairs.Count != GatePairs.Count(blocks))
            throw new ArgumentException($"A stage with {blocks} blocks has {GatePairs.Count(blocks)} gates, got {pairs.Count}.");
        var m = new double[blocks, blocks];
        for (int i = 0; i < blocks; i++) for (int j = 0; j < blocks; j++) m[i, j] = double.NaN;
        foreach (var (i, j) in GatePairs.All(blocks)) m[i, j - 1] = pairs[GatePairs.Index(i, j)];
        return m;
    }

    /// <summary>Writes "&lt;name&gt;.gates-&lt;stage&gt;.png" per stage and "&lt;name&gt;.gates.png" (the image, rgb [3, H, W] in
    /// [0, 1], beside every stage map). Returns the files written, the composite first.</summary>
    public static IReadOnlyList<string> Write(string dir, string name, Tensor rgb, IReadOnlyDictionary<string, double[,]> gates, string caption)
    {
        Directory.CreateDirectory(dir);
        var files = new List<string>();
        foreach (var (stage, m) in gates)
        {
            var k = m.GetLength(0);
            var path = Path.Combine(dir, $"{name}.gates-{stage}.png");
            Charts.HeatMap(path, $"{caption}: Λ of stage {stage}", m,
                Enumerable.Range(0, k).Select(i => $"from n{i}").ToList(), Enumerable.Range(1, k).Select(j => $"to h{j}").ToList());
            files.Add(path);
        }
        var composite = Path.Combine(dir, $"{name}.gates.png");
        var panels = new List<Mat>();
        try
        {
            foreach (var f in files)
            {
                var map = Cv2.ImRead(f, ImreadModes.Color);
                if (map.Empty()) throw new IOException($"{f}: the heat map just written cannot be read back.");
                panels.Add(map);
            }
            var height = panels.Max(p => p.Height);
            using (var image = ImageCodec.RgbTensorToMat(rgb))
            {
                var side = Math.Min(height, 320);
                var big = new Mat();
                Cv2.Resize(image, big, new OpenCvSharp.Size(side * image.Width / Math.Max(image.Height, 1), side), interpolation: InterpolationFlags.Nearest);
                panels.Insert(0, big);
            }
            for (int p = 0; p < panels.Count; p++)
            {
                if (panels[p].Height == height) continue;
                var padded = new Mat();
                Cv2.CopyMakeBorder(panels[p], padded, 0, height - panels[p].Height, 8, 8, BorderTypes.Constant, new OpenCvSharp.Scalar(255, 255, 255));
                panels[p].Dispose();
                panels[p] = padded;
            }
            using var row = new Mat();
            Cv2.HConcat(panels.ToArray(), row);
            ImageCodec.WritePng(composite, row);
        }
        finally { foreach (var p in panels) p.Dispose(); }
        files.Insert(0, composite);
        return files;
    }
}
