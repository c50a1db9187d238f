namespace Delta.Plugins.DeepLabV3.Metrics;

/// <summary>
/// Scores from a confusion matrix C (rows truth, columns prediction):
/// IoU_c = C[c,c] / (Σ_j C[c,j] + Σ_i C[i,c] − C[c,c]); pixel accuracy = Σ_c C[c,c] / Σ C.
/// A class absent from both the ground truth and the predictions has 0/0 IoU: it is reported as NaN and left
/// out of mIoU (the mean over the remaining classes), as the VOC devkit and torchvision's reference do with
/// nanmean. A class that is predicted but never present counts with IoU 0.
/// </summary>
public sealed record SegmentationScores(IReadOnlyList<double> ClassIoU, double MeanIoU, double PixelAccuracy, long LabelledPixels)
{
    public static SegmentationScores From(long[,] c)
    {
        int k = c.GetLength(0);
        var iou = new double[k];
        long diagonal = 0, total = 0;
        for (int i = 0; i < k; i++)
        {
            long row = 0, col = 0;
            for (int j = 0; j < k; j++) { row += c[i, j]; col += c[j, i]; total += c[i, j]; }
            diagonal += c[i, i];
            long union = row + col - c[i, i];
            iou[i] = union == 0 ? double.NaN : (double)c[i, i] / union;
        }
        var present = iou.Where(v => !double.IsNaN(v)).ToList();
        return new SegmentationScores(
            iou,
            present.Count == 0 ? double.NaN : present.Average(),
            total == 0 ? double.NaN : (double)diagonal / total,
            total);
    }
}
