using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using Delta.Plugins.DeepLabV3.Data;
using Delta.Plugins.DeepLabV3.Model;
using static TorchSharp.torch;

namespace Delta.Plugins.DeepLabV3.Tests.Model;

public sealed class ZeroDropTests
{
    [Fact]
    public void TrainingDeltaAndHeadLeavesTheSharedBaseUntouchedAndDeltaOffGivesTheBaseBack()
    {
        manual_seed(3);
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(TestBackbones.TinyBottleneck(8, deltaStages: 2));
        using var plain = registry.CreateDelta(TestBackbones.TinyBottleneck(8) with { Delta = DeltaConfig.None });
        Assert.Same(backbone.BaseModel, plain.BaseModel);   // one shared base
        var hashBefore = BaseWeightsHash.Compute(backbone.BaseModel);
        using var model = new DeepLabV3Model(backbone, 4, 8, headChannels: 16, auxiliary: true);
        var x = randn(2, 3, 48, 48);
        var y = randint(0, 4, [2, 48, 48]);
        y[0, 0] = tensor(255L);
        using var optimizer = optim.AdamW(model.TrainableParameters, 1e-2);
        model.Train(true);
        var deltaBefore = backbone.DeltaState().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var losses = DeepLabV3Plugin.Losses(model, new SegmentationBatch(x.alias(), y.alias()), 0.5);
            (losses["seg"] + losses["aux"]).backward();
            optimizer.step();
        }
        Assert.Contains(backbone.DeltaState(), kv => is_floating_point(kv.Value) && !kv.Value.Equals(deltaBefore[kv.Key]));   // Δ really trained
        Assert.Equal(hashBefore, BaseWeightsHash.Compute(backbone.BaseModel));

        model.Train(false);
        backbone.DeltaEnabled = false;
        Assert.Equal(["C4", "C5"], backbone.ReturnStages!);                 // what the model reads (aux head: C4)
        backbone.ReturnStages = null;                                       // every stage, to compare them all
        using var eval = NewDisposeScope();
        using var noGrad = no_grad();
        var off = backbone.Forward(x);
        var basic = plain.Forward(x);
        foreach (var stage in new[] { "C2", "C3", "C4", "C5" }) Assert.True(off[stage].Equals(basic[stage]), stage);
        backbone.DeltaEnabled = true;
        Assert.False(backbone.Forward(x)["C5"].Equals(basic["C5"]));
    }
}
