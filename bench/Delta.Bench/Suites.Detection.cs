using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using Delta.Plugins.FasterRcnn.Data;
using Delta.Plugins.FasterRcnn.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Bench;

public sealed partial class Suites
{
    /// <summary>
    /// The FasterRcnn plugin's own ops and model: greedy NMS of 5,000 boxes; multi-level RoIAlign of 512 RoIs over a
    /// 4-level FPN pyramid (strides 4..32, 256 channels, 2 images of 512x512), forward and forward + backward; and a
    /// Faster R-CNN + FPN training step on a Δ(4) backbone (<see cref="BenchOptions.TaskArchitecture"/>, per precision)
    /// at <see cref="BenchOptions.TaskBatch"/> x <see cref="BenchOptions.TaskSize"/>² with 3 random boxes per image.
    /// </summary>
    public IEnumerable<BenchResult> Detection()
    {
        using var g = new Generator(0, device);
        foreach (var r in NmsTimings(g)) yield return r;
        foreach (var r in RoiAlignTimings(g)) yield return r;
        foreach (var r in DetectorTrainStep()) yield return r;
    }

    private IEnumerable<BenchResult> NmsTimings(Generator g)
    {
        const int n = 5000;
        using var xy = rand([n, 2], generator: g, device: device) * 800;
        using var wh = rand([n, 2], generator: g, device: device) * 120 + 8;
        using var boxes = cat([xy, xy + wh], 1);                                                   // [N, 4] xyxy
        using var scores = rand([n], generator: g, device: device);
        int kept = 0;
        var ms = 1000 * Timing.MedianSeconds(() => { using var k = Nms.Run(boxes, scores, 0.5); kept = (int)k.shape[0]; }, 2, o.Repeats);
        yield return new("detection", "nms 5000 boxes (Delta.Plugins.FasterRcnn Nms.Run)", ms, "ms", S(("boxes", n), ("iou", 0.5), ("kept", kept)));
        // The device bit-matrix variant by itself (what Nms.Run picks on CUDA), timed on every device for comparison.
        int deviceKept = 0;
        var deviceMs = 1000 * Timing.MedianSeconds(() => { using var k = DeviceNms.Run(boxes, scores, 0.5); deviceKept = (int)k.shape[0]; }, 1, o.Repeats);
        yield return new("detection", "nms 5000 boxes (DeviceNms bit matrix)", deviceMs, "ms", S(("boxes", n), ("iou", 0.5), ("kept", deviceKept)));
        yield return TorchVisionNmsTiming(boxes, scores);
    }

    /// <summary>TorchVision .NET's <c>ops.nms</c> on the same boxes, for reference, and whether it keeps the same boxes.
    /// Its loop converts 0-d tensors to temporary <c>Scalar</c>s that nothing keeps alive across the native call; a
    /// garbage collection at the wrong moment finalises one in use (seen once as a failed Scalar-to-float conversion).
    /// It runs inside a no-GC region so that the figure is reproducible; where the runtime cannot reserve one, the
    /// figure is skipped (NaN).</summary>
    private BenchResult TorchVisionNmsTiming(Tensor boxes, Tensor scores)
    {
        long[] oursKept;
        using (var ours = Nms.Run(boxes, scores, 0.5)) oursKept = ours.cpu().data<long>().ToArray();
        var settings = new List<(string, object)> { ("boxes", boxes.shape[0]), ("iou", 0.5) };
        var agrees = false;
        var ms = double.NaN;
        bool noGcRegion;
        try { noGcRegion = GC.TryStartNoGCRegion(200L << 20); }
        catch (ArgumentOutOfRangeException) { noGcRegion = false; }   // more than this runtime's GC can reserve
        if (noGcRegion)
        {
            try
            {
                ms = 1000 * Timing.MedianSeconds(() =>
                {
                    using var theirs = TorchSharp.torchvision.ops.nms(boxes, scores, 0.5);
                    agrees = theirs.cpu().data<long>().ToArray().SequenceEqual(oursKept);
                }, device.type == DeviceType.CUDA ? 0 : 1, device.type == DeviceType.CUDA ? 1 : Math.Min(o.Repeats, 5));   // one host read per kept box: on a GPU, once is enough
            }
            finally { if (System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) GC.EndNoGCRegion(); }
        }
        else settings.Add(("skipped", "no-GC region refused"));
        settings.Add(("same boxes as Nms.Run", agrees));
        return new("detection", "nms 5000 boxes (TorchVision .NET ops.nms, reference)", ms, "ms", S([.. settings]));
    }

    private IEnumerable<BenchResult> RoiAlignTimings(Generator g)
    {
        const int images = 2, channels = 256, size = 512, rois = 512;
        int[] strides = [4, 8, 16, 32];
        var levels = strides.Select(s => randn([images, channels, size / s, size / s], generator: g, device: device).requires_grad_()).ToList();
        try
        {
            // RoIs of side 16..400 px (so every level gets some), [K, 5] = (image, x1, y1, x2, y2).
            using var side = rand([rois, 2], generator: g, device: device) * 384 + 16;
            using var corner = rand([rois, 2], generator: g, device: device) * (size - side);
            using var batchIdx = randint(0, images, [rois, 1], generator: g, device: device).to_type(ScalarType.Float32);
            using var boxes = cat([batchIdx, corner, corner + side], 1);
            var align = new MultiScaleRoiAlign(strides, outputSize: 7, samplingRatio: 2);
            var forward = 1000 * Timing.MedianSeconds(() =>
            {
                using var scope = NewDisposeScope(); using var ng = no_grad();
                align.Apply(levels, boxes).sum().item<float>();                                      // .item: wait for the device
            }, 2, o.Repeats);
            var backward = 1000 * Timing.MedianSeconds(() =>
            {
                using var scope = NewDisposeScope();
                foreach (var l in levels) l.grad?.zero_();
                align.Apply(levels, boxes).square().sum().backward();
                levels[0].grad!.sum().item<float>();
            }, 2, o.Repeats);
            var settings = S(("rois", rois), ("levels", "P2-P5 strides 4,8,16,32"), ("channels", channels), ("images", $"{images}x{size}x{size}"), ("output", "7x7, sampling 2"));
            yield return new("detection", "roialign 512 RoIs, 4 FPN levels, forward", forward, "ms", settings);
            yield return new("detection", "roialign 512 RoIs, 4 FPN levels, forward + backward", backward, "ms", settings);
        }
        finally { foreach (var l in levels) l.Dispose(); }
    }

    private IEnumerable<BenchResult> DetectorTrainStep()
    {
        var (arch, weights) = ArchAndWeights(o.TaskArchitecture);
        using var registry = BackboneRegistry.CreateDefault();
        foreach (var precision in o.Precisions)
        {
            Timing.ResetPeakRss();
            using var backbone = registry.Create(precision.Apply(new BackboneRequest { Architecture = arch, Weights = weights, Delta = new DeltaConfig { Stages = 4 }, Device = device }));
            using var model = new FasterRcnn(backbone, new DetectorSettings());
            using var batch = RandomDetectionBatch(o.TaskBatch, o.TaskSize);
            using var generator = new Generator(0);
            var (rate, peakRss, stepMemory) = TrainStepRate(model.TrainableParameters, o.TaskBatch, () => model.Losses(batch, generator), m => model.train(m));
            var settings = S(("arch", arch), ("delta", 4), ("batch", o.TaskBatch), ("size", o.TaskSize), ("steps", o.TrainSteps),
                ("boxes/image", 3), ("classes", 20), ("precision", precision.Label));
            yield return new("detection", $"faster r-cnn fpn {arch} Δ(4){precision.Suffix} train step", rate, "img/s", settings);
            yield return new("detection", $"faster r-cnn fpn {arch} Δ(4){precision.Suffix} peak RSS", peakRss, "MB", settings);
            if (o.ExactMemory) yield return new("detection", $"faster r-cnn fpn {arch} Δ(4){precision.Suffix} step memory", stepMemory, "MB", settings);
        }
    }

    /// <summary>A fixed batch: random images, 3 random boxes of side 24..(size/2) per image, VOC labels 1..20.</summary>
    private DetectionBatch RandomDetectionBatch(int n, int size)
    {
        using var g = new Generator(1);
        var images = randn([n, 3, size, size], generator: g).to(device);
        var boxes = new List<Tensor>(); var labels = new List<Tensor>();
        for (int i = 0; i < n; i++)
        {
            using var side = rand([3, 2], generator: g) * (size / 2 - 24) + 24;
            using var corner = rand([3, 2], generator: g) * (size - side);
            boxes.Add(cat([corner, corner + side], 1).to(device));
            labels.Add(randint(1, 21, [3], generator: g).to(device));
        }
        return new DetectionBatch(images, Enumerable.Repeat((size, size), n).ToList(), boxes, labels,
            Enumerable.Repeat(1.0, n).ToList(), Enumerable.Range(0, n).Select(i => $"bench{i}").ToList());
    }
}
