using Delta.Abstractions.Backbones;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Delta;
using Delta.Backbones.Registry;
using Delta.Data.Voc;
using Delta.Host.Training;
using Delta.Plugins.FasterRcnn.Data;
using Delta.Plugins.FasterRcnn.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.FasterRcnn.Tests;

/// <summary>The C4 head: RoIs pooled on C4 go through the backbone's OWN stage 5 — the frozen weights, with the Δ gates of
/// that stage — so Δ(1) trains the detector's box head through its gates without any base weight moving.</summary>
public sealed class C4HeadTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-frcnn-c4-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static DetectorSettings C4 => new()
    {
        Head = HeadKind.C4, AnchorSizes = [16, 32, 64], NumClasses = VocClasses.Names.Count,
        Rpn = new RpnSettings(PreNmsTopNTrain: 100, PostNmsTopNTrain: 50, PreNmsTopNTest: 100, PostNmsTopNTest: 30, BatchSizePerImage: 64),
        RoiHeads = new RoiHeadSettings(BatchSizePerImage: 16, ScoreThreshold: 0.0),
    };

    [Fact]
    public void Stage5_Runner_Is_The_Plain_Stage_Without_Delta_And_Goes_Through_The_Gates_With_It()
    {
        using var scope = NewDisposeScope();
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(new BackboneRequest { Architecture = "tiny_resnet", Weights = "random", Delta = new DeltaConfig { Stages = 1 }, Seed = 4 });
        var c4 = backbone.FeatureInfo.Single(f => f.Name == "C4");
        var c5 = backbone.FeatureInfo.Single(f => f.Name == "C5");
        var runner = new BackboneStageRunner(backbone, "C5");
        var rois = randn(3, c4.Channels, 14, 14);
        using var noGrad = no_grad();
        var plain = backbone.BaseModel.Stages.Single(s => s.Name == "C5").ForwardPlain(rois);
        Assert.Equal(new long[] { 3, c5.Channels, 7, 7 }, plain.shape);

        backbone.DeltaEnabled = false;
        Assert.True(runner.Forward(rois).Equals(plain));
        backbone.DeltaEnabled = true;
        // Freshly initialised Δ has zero skip-BN gains (zero drop at init), so it computes the plain stage ...
        Assert.True(runner.Forward(rois).allclose(plain, rtol: 0, atol: 1e-6));
        // ... and once those gains move, the output moves with the per-RoI gates: the runner really goes through Δ.
        foreach (var (name, p) in backbone.Module.named_parameters())
            if (name.Contains("skip_bn") && name.EndsWith("weight")) p.fill_(0.5f);
        Assert.False(runner.Forward(rois).allclose(plain, rtol: 0, atol: 1e-3));
        Assert.Throws<ArgumentException>(() => new BackboneStageRunner(backbone, "C6"));
    }

    [Fact]
    public void The_C4_Head_Refuses_A_Derived_Frozen_Copy_As_Bad_Input()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var fused = registry.CreateDelta(new BackboneRequest
        {
            Architecture = "tiny_resnet", Delta = new DeltaConfig { Stages = 1 }, ChannelsLast = true, FoldBatchNorm = true,
        });
        var e = Assert.Throws<Delta.Abstractions.InputException>(() => new BackboneStageRunner(fused, "C5"));
        Assert.Contains("folded BatchNorm", e.Message);
    }

    [Fact]
    public void Trunk_Through_C4_Equals_The_Full_Backbone_Forward_Without_Computing_C5()
    {
        using var scope = NewDisposeScope();
        using var registry = BackboneRegistry.CreateDefault();
        // Δ(2) covers C4 and C5; non-zero skip-BN gains make Δ change the features, so a path that skipped it would show.
        using var backbone = registry.CreateDelta(new BackboneRequest { Architecture = "tiny_resnet", Weights = "random", Delta = new DeltaConfig { Stages = 2 }, Seed = 4 });
        using var noGrad = no_grad();
        foreach (var (name, p) in backbone.Module.named_parameters())
            if (name.Contains("skip_bn") && name.EndsWith("weight")) p.fill_(0.5f);
        var runner = new BackboneStageRunner(backbone, "C5");
        var images = randn(2, 3, 64, 96);
        foreach (var enabled in new[] { true, false })
        {
            backbone.DeltaEnabled = enabled;
            var full = backbone.Forward(images);
            var trunk = runner.ForwardThrough(images, "C4");
            Assert.Equal(new[] { "C2", "C3", "C4" }, trunk.Keys.Order().ToArray());   // stage 5 is not run on the image
            foreach (var stage in trunk.Keys) Assert.True(trunk[stage].Equals(full[stage]), $"{stage} (Δ {(enabled ? "on" : "off")})");
        }
        Assert.Contains("no stage 'P4'", Assert.Throws<ArgumentException>(() => runner.ForwardThrough(images, "P4")).Message);
    }

    [Fact]
    public void C4_Detector_Trains_Stage5_Delta_Through_The_Box_Loss_And_Never_Moves_The_Base()
    {
        var voc = SyntheticVocGenerator.Generate(dir, new SyntheticVocOptions(Count: 6, Width: 64, Height: 64, Seed: 2, ValFraction: 0, TestFraction: 0.2));
        var train = VocDetectionReader.Read(voc, "trainval").Images;
        using var registry = BackboneRegistry.CreateDefault();
        var request = new BackboneRequest { Architecture = "tiny_resnet", Weights = "random", Delta = new DeltaConfig { Stages = 1 }, Seed = 1 };
        var shared = registry.GetBase(request);
        var sharedHash = BaseWeightsHash.Compute(shared.Model);
        using var backbone = registry.CreateDelta(request);
        manual_seed(0);
        using var model = new Model.FasterRcnn(backbone, C4);
        // The model owns only the RPN head and the final linear layers; stage 5 stays the backbone's.
        Assert.All(model.named_parameters(), p => Assert.Matches(@"^(rpn_head\.|box_head\.(cls_score|bbox_pred)\.)", p.name));
        var loader = new DetectionLoader(train, new DetectionTransform(64, 80), backbone.Preprocessing, CPU);

        // The box losses alone reach the Δ-module of stage 5 (the skip-BN gains start at 0, so they get the gradient).
        using (var scope = NewDisposeScope())
        using (var batch = loader.Load(train.Take(2).ToList(), null, false))
        {
            model.train();
            var losses = model.Losses(batch, new Generator(1));
            Assert.Equal(new[] { "roi_box", "roi_cls", "rpn_box", "rpn_objectness" }, losses.Keys.Order().ToArray());
            Assert.All(losses.Values, l => Assert.True(double.IsFinite(l.item<float>())));
            (losses["roi_cls"] + losses["roi_box"]).backward();
            var deltaGrads = backbone.Module.named_parameters().Where(p => p.name.StartsWith("delta.C5.", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(deltaGrads);
            Assert.Contains(deltaGrads, p => p.parameter.grad is { } g && g.abs().sum().item<float>() > 0);
            Assert.All(backbone.BaseModel.parameters(), p => Assert.Null(p.grad));
            foreach (var p in model.TrainableParameters) p.grad = null;
        }

        var loop = DetectorTraining.Loop(model, loader, new TrainingHyperParameters { Epochs = 1, MaxSteps = 2, BatchSize = 2, LearningRate = 1e-2, Schedule = "constant" }, seed: 1);
        Assert.Equal(2, new Trainer().Fit(loop, CancellationToken.None).Steps);
        Assert.Equal(sharedHash, BaseWeightsHash.Compute(shared.Model));

        using var noGrad = no_grad();
        using var test = loader.Load(train.Take(1).ToList(), null, false);
        var det = Assert.Single(model.Detect(test.Images, test.Sizes));
        Assert.True(det.Boxes.shape[0] > 0);
        Assert.True(det.Boxes.min().item<float>() >= 0 && det.Boxes[.., 2].max().item<float>() <= test.Sizes[0].W);
    }
}
