using Delta.Abstractions.Backbones;
using Delta.Plugins.Classification.Commands;

namespace Delta.Plugins.Classification.Tests.Commands;

/// <summary>The Δ method names `delta compare --methods` accepts.</summary>
public class CompareMethodNamesTests
{
    [Theory]
    [InlineData("delta1", 1, 1)]
    [InlineData("delta4", 4, 1)]
    [InlineData("delta4s4", 4, 4)]
    [InlineData("DELTA2s2", 2, 2)]
    public void DeltaNAndDeltaNsS(string method, int stages, int gateStride)
    {
        var config = CompareCommand.ParseDeltaMethod(method);
        Assert.Equal(new DeltaConfig { Stages = stages, GateStride = gateStride }, config);
    }

    [Theory]
    [InlineData("delta")]
    [InlineData("delta4s")]
    [InlineData("delta4x4")]
    [InlineData("fc-only")]
    public void OtherNamesAreNotDeltaMethods(string method) => Assert.Null(CompareCommand.ParseDeltaMethod(method));

    [Fact]
    public void AblationVariantsKeepTheirNames()
    {
        Assert.Equal(new DeltaConfig { Stages = 4, Variant = DeltaVariant.AllSkipsFixed, BatchNorm = false }, CompareCommand.ParseDeltaMethod("all-fixed-4-nobn"));
    }
}
