using Delta.Data.Voc;
using Delta.Plugins.FasterRcnn.Data;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Metrics;

/// <summary>Runs a detector over a loader and scores it with <see cref="VocAp"/>; detections are mapped back to the
/// original image and to VOC's 1-based coordinates (xmin = x1 + 1, xmax = x2).</summary>
public static class DetectionEvaluator
{
    public static (VocApResult Ap, IReadOnlyList<VocDetection> Detections) Run(Model.FasterRcnn model, DetectionLoader loader, IReadOnlyList<VocAnnotation> annotations, int batchSize)
    {
        model.eval();
        var dets = new List<VocDetection>();
        using (no_grad())
            foreach (var batch in loader.Batches(batchSize, shuffle: false, includeDifficult: true))
            {
                using var scope = NewDisposeScope();
                using var b = batch;
                var results = model.Detect(b.Images, b.Sizes);
                for (int i = 0; i < results.Count; i++)
                {
                    var boxes = HostArrays.ToArray<float>(results[i].Boxes / b.Scales[i]);
                    var scores = HostArrays.ToArray<float>(results[i].Scores);
                    var labels = HostArrays.ToArray<long>(results[i].Labels);
                    for (int k = 0; k < scores.Length; k++)
                        dets.Add(new VocDetection(b.ImageIds[i], (int)labels[k], scores[k], boxes[4 * k] + 1, boxes[4 * k + 1] + 1, boxes[4 * k + 2], boxes[4 * k + 3]));
                }
            }
        var gts = annotations.SelectMany(a => a.Objects.Select(o => new VocGroundTruth(a.ImageId, o.Label, o.Difficult, o.XMin, o.YMin, o.XMax, o.YMax))).ToList();
        var classes = gts.Select(g => g.Label).Distinct().Order();
        return (VocAp.Evaluate(dets, gts, classes), dets);
    }
}
