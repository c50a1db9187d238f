namespace Delta.Plugins.FasterRcnn.Metrics;

/// <summary>A detection in VOC devkit coordinates (1-based, inclusive pixels).</summary>
public sealed record VocDetection(string ImageId, int Label, double Score, double XMin, double YMin, double XMax, double YMax);

/// <summary>A ground-truth box in VOC devkit coordinates.</summary>
public sealed record VocGroundTruth(string ImageId, int Label, bool Difficult, double XMin, double YMin, double XMax, double YMax);

/// <summary>Per-class AP in both VOC variants and their means over the classes that have non-difficult ground truth.</summary>
public sealed record VocApResult(IReadOnlyDictionary<int, double> Ap11Point, IReadOnlyDictionary<int, double> ApArea, double MeanAp11Point, double MeanApArea);

/// <summary>
/// PASCAL VOC average precision at IoU ≥ 0.5, as the devkit's voc_eval: detections sorted by score; each is a true
/// positive if it overlaps (IoU with the devkit's +1 pixel widths) an unclaimed non-difficult GT of its class in its
/// image by more than 0.5; matching a difficult GT makes it neither TP nor FP; a second detection of a claimed GT is a
/// false positive (duplicate). Difficult GTs are not counted in recall.
/// Variants: "11-point" (VOC2007: mean of max precision at recall ≥ 0, 0.1, ..., 1) and "area" (VOC2010+: area under
/// the precision envelope).
/// </summary>
public static class VocAp
{
    public static VocApResult Evaluate(IReadOnlyList<VocDetection> detections, IReadOnlyList<VocGroundTruth> groundTruth, IEnumerable<int> classes, double iouThreshold = 0.5)
    {
        var ap11 = new Dictionary<int, double>(); var apArea = new Dictionary<int, double>();
        foreach (var c in classes)
        {
            var gts = groundTruth.Where(g => g.Label == c).GroupBy(g => g.ImageId).ToDictionary(g => g.Key, g => g.ToList());
            int npos = groundTruth.Count(g => g.Label == c && !g.Difficult);
            if (npos == 0) continue; // the devkit's AP is undefined (NaN) for a class without positives; leave it out of the mean
            var claimed = gts.ToDictionary(kv => kv.Key, kv => new bool[kv.Value.Count]);
            var dets = detections.Where(d => d.Label == c).OrderByDescending(d => d.Score).ToList();
            var tp = new List<double>(); var fp = new List<double>();
            foreach (var d in dets)
            {
                double best = double.NegativeInfinity; int bestIdx = -1;
                if (gts.TryGetValue(d.ImageId, out var list))
                    for (int j = 0; j < list.Count; j++)
                    {
                        var iou = Iou(d, list[j]);
                        if (iou > best) { best = iou; bestIdx = j; }
                    }
                if (best > iouThreshold)
                {
                    if (list![bestIdx].Difficult) continue;
                    if (!claimed[d.ImageId][bestIdx]) { claimed[d.ImageId][bestIdx] = true; tp.Add(1); fp.Add(0); }
                    else { tp.Add(0); fp.Add(1); }
                }
                else { tp.Add(0); fp.Add(1); }
            }
            var rec = new double[tp.Count]; var prec = new double[tp.Count];
            double ctp = 0, cfp = 0;
            for (int i = 0; i < tp.Count; i++)
            {
                ctp += tp[i]; cfp += fp[i];
                rec[i] = ctp / npos;
                prec[i] = ctp / Math.Max(ctp + cfp, double.Epsilon);
            }
            ap11[c] = ElevenPoint(rec, prec);
            apArea[c] = Area(rec, prec);
        }
        return new VocApResult(ap11, apArea, ap11.Count == 0 ? 0 : ap11.Values.Average(), apArea.Count == 0 ? 0 : apArea.Values.Average());
    }

    public static double ElevenPoint(double[] rec, double[] prec)
    {
        double ap = 0;
        for (int k = 0; k <= 10; k++)
        {
            double t = k / 10.0, p = 0;
            for (int i = 0; i < rec.Length; i++) if (rec[i] >= t) p = Math.Max(p, prec[i]);
            ap += p / 11;
        }
        return ap;
    }

    public static double Area(double[] rec, double[] prec)
    {
        var mrec = new double[rec.Length + 2]; var mpre = new double[rec.Length + 2];
        mrec[^1] = 1;
        for (int i = 0; i < rec.Length; i++) { mrec[i + 1] = rec[i]; mpre[i + 1] = prec[i]; }
        for (int i = mpre.Length - 2; i >= 0; i--) mpre[i] = Math.Max(mpre[i], mpre[i + 1]);
        double ap = 0;
        for (int i = 1; i < mrec.Length; i++) if (mrec[i] != mrec[i - 1]) ap += (mrec[i] - mrec[i - 1]) * mpre[i];
        return ap;
    }

    /// <summary>IoU with the devkit's inclusive-pixel widths (xmax - xmin + 1).</summary>
    private static double Iou(VocDetection d, VocGroundTruth g)
    {
        double iw = Math.Min(d.XMax, g.XMax) - Math.Max(d.XMin, g.XMin) + 1, ih = Math.Min(d.YMax, g.YMax) - Math.Max(d.YMin, g.YMin) + 1;
        if (iw <= 0 || ih <= 0) return 0;
        double inter = iw * ih;
        double union = (d.XMax - d.XMin + 1) * (d.YMax - d.YMin + 1) + (g.XMax - g.XMin + 1) * (g.YMax - g.YMin + 1) - inter;
        return inter / union;
    }
}
