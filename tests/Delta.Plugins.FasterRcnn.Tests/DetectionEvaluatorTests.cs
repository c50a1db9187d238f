using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using Delta.Data.Voc;
using Delta.Plugins.FasterRcnn.Data;
using Delta.Plugins.FasterRcnn.Metrics;
using Delta.Plugins.FasterRcnn.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

public sealed class DetectionEvaluatorTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-frcnn-eval-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>Regression: an image without any detection above the score threshold (ordinary for a young or strict
    /// detector) used to crash evaluation, because TorchSharp cannot copy an empty tensor to an array.</summary>
    [Fact]
    public void Images_Without_Detections_Score_Zero_Instead_Of_Failing()
    {
        Assert.Empty(HostArrays.ToArray<float>(zeros(0, 4)));
        Assert.Equal(new long[] { 3, 4 }, HostArrays.ToArray<long>(tensor(new long[] { 3, 4 })));

        var voc = SyntheticVocGenerator.Generate(dir, new SyntheticVocOptions(Count: 5, Width: 64, Height: 64, Seed: 3, ValFraction: 0, TestFraction: 0.4));
        var test = VocDetectionReader.Read(voc, "test").Images;
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.Create(new BackboneRequest { Architecture = "tiny_resnet", Weights = "random", Delta = new DeltaConfig { Stages = 1 } });
        var settings = new DetectorSettings
        {
            Stages = ["C3", "C4", "C5"], FpnChannels = 8, AnchorSizes = [16, 32, 64, 128], RepresentationSize = 16, NumClasses = VocClasses.Names.Count,
            RoiHeads = new RoiHeadSettings(ScoreThreshold: 0.999),     // an untrained head scores ~1/21: nothing passes
        };
        using var model = new Model.FasterRcnn(backbone, settings);
        var loader = new DetectionLoader(test, new DetectionTransform(64, 80), backbone.Preprocessing, CPU);

        var (ap, detections) = DetectionEvaluator.Run(model, loader, test, 2);
        Assert.Empty(detections);
        Assert.Equal(0, ap.MeanApArea);
        Assert.Equal(0, ap.MeanAp11Point);
    }
}
