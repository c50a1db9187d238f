using Delta.Abstractions.Backbones;
using Delta.Data.Images;
using Delta.Data.Voc;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Data;

/// <summary>Resize rule (Faster R-CNN: shorter side 600, longer ≤ 1000) and augmentation.</summary>
public sealed record DetectionTransform(int MinSize = 600, int MaxSize = 1000, bool HorizontalFlip = false)
{
    public double ScaleFor(int h, int w) => Math.Min((double)MinSize / Math.Min(h, w), (double)MaxSize / Math.Max(h, w));
}

/// <summary>
/// Turns VOC annotations into <see cref="DetectionBatch"/>es: decode, resize (bilinear), optional random horizontal flip,
/// preprocess for the backbone, pad to a multiple of 32. VOC boxes (1-based inclusive) become continuous xyxy:
/// x1 = xmin - 1, x2 = xmax (pixel xmax, 1-based, ends at xmax in continuous coordinates).
/// </summary>
public sealed class DetectionLoader(IReadOnlyList<VocAnnotation> images, DetectionTransform transform, IInputPreprocessing preprocessing, Device device)
{
    public int Count => images.Count;

    public IEnumerable<DetectionBatch> Batches(int batchSize, bool shuffle, Random? rng = null, bool includeDifficult = false)
    {
        var order = Enumerable.Range(0, images.Count).ToArray();
        if (shuffle) (rng ?? new Random(0)).Shuffle(order);
        for (int start = 0; start < order.Length; start += batchSize)
            yield return Load(order.Skip(start).Take(batchSize).Select(i => images[i]).ToList(), rng, includeDifficult);
    }

    public DetectionBatch Load(IReadOnlyList<VocAnnotation> items, Random? rng, bool includeDifficult)
    {
        using var scope = NewDisposeScope();
        var imgs = new List<Tensor>(); var sizes = new List<(int, int)>(); var boxes = new List<Tensor>(); var labels = new List<Tensor>(); var scales = new List<double>();
        foreach (var a in items)
        {
            var rgb = ImageCodec.ReadRgb(a.ImagePath);                                   // [3, H, W]
            int h = (int)rgb.shape[1], w = (int)rgb.shape[2];
            VocDetectionReader.CheckDecodedSize(a, h, w);
            double s = transform.ScaleFor(h, w);
            int nh = (int)Math.Round(h * s), nw = (int)Math.Round(w * s);
            var resized = nn.functional.interpolate(rgb.unsqueeze(0), size: [nh, nw], mode: InterpolationMode.Bilinear, align_corners: false).squeeze(0);
            var objs = a.Objects.Where(o => includeDifficult || !o.Difficult).ToList();
            var b = objs.Count == 0 ? zeros(0, 4) : tensor(objs.SelectMany(o => new float[] { o.XMin - 1, o.YMin - 1, o.XMax, o.YMax }).ToArray()).reshape(-1, 4) * s;
            if (transform.HorizontalFlip && rng != null && rng.NextDouble() < 0.5)
            {
                resized = resized.flip(2);
                b = stack([nw - b[.., 2], b[.., 1], nw - b[.., 0], b[.., 3]], 1);
            }
            imgs.Add(resized); sizes.Add((nh, nw)); scales.Add(s);
            boxes.Add(b.to(device).MoveToOuterDisposeScope());
            labels.Add(tensor(objs.Select(o => (long)o.Label).ToArray(), dtype: ScalarType.Int64).to(device).MoveToOuterDisposeScope());
        }
        int ph = (sizes.Max(x => x.Item1) + 31) / 32 * 32, pw = (sizes.Max(x => x.Item2) + 31) / 32 * 32;
        var batch = zeros(imgs.Count, 3, ph, pw, device: device);
        for (int i = 0; i < imgs.Count; i++)
        {
            var pre = preprocessing.Apply(imgs[i].to(device));
            batch[i, .., TensorIndex.Slice(0, sizes[i].Item1), TensorIndex.Slice(0, sizes[i].Item2)] = pre;
        }
        return new DetectionBatch(batch.MoveToOuterDisposeScope(), sizes, boxes, labels, scales, items.Select(a => a.ImageId).ToList());
    }
}
