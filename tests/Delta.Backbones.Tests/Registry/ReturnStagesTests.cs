using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Registry;

/// <summary><see cref="IDeltaBackbone.ReturnStages"/>: only the asked-for stage outputs come back, and asking changes
/// no value — pooled vector, gates and the returned stages are bit-identical to a forward that returns them all.</summary>
public class ReturnStagesTests
{
    public static TheoryData<int, BackbonePrecision> Setups => new()
    {
        { 0, BackbonePrecision.Float32 },     // Δ off entirely: every stage runs in the plain loop
        { 1, BackbonePrecision.Float32 },     // plain stages, then Δ on the last
        { 4, BackbonePrecision.Float32 },     // Δ on every stage
        { 1, BackbonePrecision.BFloat16 },    // fast mode: plain outputs would be converted to fp32
        { 4, BackbonePrecision.BFloat16 },
    };

    [Theory]
    [MemberData(nameof(Setups))]
    public void OnlyTheAskedForStagesComeBackAndNothingElseChanges(int deltaStages, BackbonePrecision precision)
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(new BackboneRequest
        {
            Architecture = "tiny_bottleneck", Delta = deltaStages > 0 ? new DeltaConfig { Stages = deltaStages } : DeltaConfig.None,
            Seed = 3, Precision = precision,
        });
        backbone.ReturnGates = deltaStages > 0;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = TestTensors.Input(2, 40);
        var all = backbone.Forward(x);
        Assert.Equal(["C2", "C3", "C4", "C5"], all.Stages.Keys);

        backbone.ReturnStages = [];
        var none = backbone.Forward(x);
        Assert.Empty(none.Stages);
        Assert.True(all.Pooled.Equals(none.Pooled), "pooled vector changed");
        if (deltaStages > 0)
            foreach (var (stage, gates) in all.Gates!) Assert.True(gates.Equals(none.Gates![stage]), $"gates of {stage} changed");

        backbone.ReturnStages = ["C3", "C5"];
        var some = backbone.Forward(x);
        Assert.Equal(["C3", "C5"], some.Stages.Keys);
        foreach (var stage in some.Stages.Keys)
        {
            Assert.Equal(ScalarType.Float32, some[stage].dtype);
            Assert.True(all[stage].Equals(some[stage]), $"{stage} changed");
        }
        Assert.True(all.Pooled.Equals(some.Pooled));

        backbone.ReturnStages = null;
        Assert.Equal(4, backbone.Forward(x).Stages.Count);
    }

    [Fact]
    public void AnUnknownStageIsRefusedNamingTheStagesThereAre()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(new BackboneRequest { Architecture = "tiny_resnet", Delta = new DeltaConfig { Stages = 1 } });
        var e = Assert.Throws<ArgumentException>(() => backbone.ReturnStages = ["C5", "P6"]);
        Assert.Contains("'P6'", e.Message);
        Assert.Contains("C2, C3, C4, C5", e.Message);
        Assert.Null(backbone.ReturnStages);                                 // a refused value leaves the setting as it was
    }
}
