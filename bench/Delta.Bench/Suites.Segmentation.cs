using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using Delta.Plugins.DeepLabV3.Losses;
using Delta.Plugins.DeepLabV3.Model;
using static TorchSharp.torch;

namespace Delta.Bench;

public sealed partial class Suites
{
    /// <summary>A DeepLab-V3 training step (the DeepLabV3 plugin's model, 21 classes, output stride 16, no auxiliary
    /// head) on a Δ(4) backbone (<see cref="BenchOptions.TaskArchitecture"/>, per precision), at
    /// <see cref="BenchOptions.TaskBatch"/> x <see cref="BenchOptions.TaskSize"/>², random images and labels.</summary>
    public IEnumerable<BenchResult> Segmentation()
    {
        const int classes = 21, outputStride = 16;
        var (arch, weights) = ArchAndWeights(o.TaskArchitecture);
        using var registry = BackboneRegistry.CreateDefault();
        foreach (var precision in o.Precisions)
        {
            Timing.ResetPeakRss();
            using var backbone = registry.Create(precision.Apply(new BackboneRequest
            {
                Architecture = arch, Weights = weights, Delta = new DeltaConfig { Stages = 4 }, Device = device, OutputStride = outputStride,
            }));
            using var model = new DeepLabV3Model(backbone, classes, outputStride);
            using var g = new Generator(2);
            using var x = randn([o.TaskBatch, 3, o.TaskSize, o.TaskSize], generator: g).to(device);
            using var y = randint(0, classes, [o.TaskBatch, o.TaskSize, o.TaskSize], generator: g).to(device);
            var (rate, peakRss, stepMemory) = TrainStepRate(model.TrainableParameters, o.TaskBatch,
                () => new Dictionary<string, Tensor> { ["ce"] = SegmentationLoss.CrossEntropy(model.Forward(x).Logits, y) }, model.Train);
            var settings = S(("arch", arch), ("delta", 4), ("batch", o.TaskBatch), ("size", o.TaskSize), ("steps", o.TrainSteps),
                ("classes", classes), ("output stride", outputStride), ("precision", precision.Label));
            yield return new("segmentation", $"deeplabv3 {arch} Δ(4){precision.Suffix} train step", rate, "img/s", settings);
            yield return new("segmentation", $"deeplabv3 {arch} Δ(4){precision.Suffix} peak RSS", peakRss, "MB", settings);
            if (o.ExactMemory) yield return new("segmentation", $"deeplabv3 {arch} Δ(4){precision.Suffix} step memory", stepMemory, "MB", settings);
        }
    }
}
