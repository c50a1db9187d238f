using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Delta;

/// <summary>The paper's Table 8 ablations, each with and without the skip BN.</summary>
public class DeltaVariantTests
{
    public static TheoryData<DeltaVariant, bool> AllVariants()
    {
        var data = new TheoryData<DeltaVariant, bool>();
        foreach (var v in Enum.GetValues<DeltaVariant>()) { data.Add(v, true); data.Add(v, false); }
        return data;
    }

    private static DeltaBackbone Create(BackboneRegistry registry, DeltaVariant variant, bool batchNorm) =>
        registry.CreateDelta(new BackboneRequest
        {
            Architecture = "tiny_resnet",                                        // blocks [2,2,2,2]
            Delta = new DeltaConfig { Stages = 2, Variant = variant, BatchNorm = batchNorm },
            Seed = 1,
        });

    /// <summary>Expected trainable tensors per Δ stage (k = 2 blocks, 3 pairs, C channels).</summary>
    private static IEnumerable<string> ExpectedTrainable(DeltaVariant variant, bool batchNorm, string stage)
    {
        var p = $"delta.{stage}.";
        var own = variant switch
        {
            DeltaVariant.Delta => new[] { "gates.conv1.weight", "gates.bn1.weight", "gates.bn1.bias", "gates.conv2.weight", "gates.bn2.weight", "gates.bn2.bias", "gates.fc.weight", "gates.fc.bias" },
            DeltaVariant.LearnableExistingSkips or DeltaVariant.AllSkipsLearnable => new[] { "gates.weight" },
            _ => Array.Empty<string>(),
        };
        var bn = batchNorm ? new[] { "skip_bn.0.weight", "skip_bn.0.bias", "skip_bn.1.weight", "skip_bn.1.bias" } : Array.Empty<string>();
        return own.Concat(bn).Select(n => p + n);
    }

    [Theory]
    [MemberData(nameof(AllVariants))]
    public void EachVariantTrainsExactlyItsOwnParametersAndNeverTheBase(DeltaVariant variant, bool batchNorm)
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = Create(registry, variant, batchNorm);
        var trainable = backbone.Module.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).OrderBy(n => n, StringComparer.Ordinal);
        var expected = new[] { "C4", "C5" }.SelectMany(s => ExpectedTrainable(variant, batchNorm, s)).OrderBy(n => n, StringComparer.Ordinal);
        Assert.Equal(expected, trainable);
        Assert.Equal(backbone.TrainableParameters.Sum(p => p.numel()), backbone.TrainableParameterCount);
        if (variant == DeltaVariant.LearnableExistingSkips)
            Assert.Equal(new long[] { 2 }, backbone.Module.get_parameter("delta.C5.gates.weight")!.shape);    // k scalars
        if (variant == DeltaVariant.AllSkipsLearnable)
            Assert.Equal(new long[] { 3 }, backbone.Module.get_parameter("delta.C5.gates.weight")!.shape);    // k(k+1)/2 scalars

        var baseHash = BaseWeightsHash.Compute(backbone.BaseModel);
        var before = backbone.Module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var head = TestTensors.Head(backbone.NumFeatures, 2);
        // No weight decay: with it every non-zero parameter moves whether or not a gradient reaches it; without it an
        // Adam step moves only a parameter that got a non-zero gradient, which is what "trains" must mean here.
        using var optimizer = optim.AdamW(backbone.TrainableParameters.Concat(head.parameters()).ToList(), lr: 0.05, weight_decay: 0);
        backbone.Train(true);
        var x = TestTensors.Input(4, 32);
        using var y = tensor(new long[] { 0, 1, 1, 0 });
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(head.call(backbone.Forward(x).Pooled), y).backward();
            optimizer.step();
        }
        Assert.Equal(baseHash, BaseWeightsHash.Compute(backbone.BaseModel));
        var changedParams = backbone.Module.named_parameters().Where(p => !p.parameter.Equals(before[p.name])).Select(p => p.name).ToHashSet();
        Assert.Equal(expected.ToHashSet(), changedParams);   // every own parameter moved, nothing else exists
    }

    [Theory]
    [InlineData(DeltaVariant.AllSkipsLearnable)]
    [InlineData(DeltaVariant.LearnableExistingSkips)]
    public void ReturnedGatesAreNotAViewOfTheParameterAnOptimizerSteps(DeltaVariant variant)
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = Create(registry, variant, batchNorm: false);
        backbone.ReturnGates = true;
        using var scope = NewDisposeScope();
        var kept = backbone.Forward(TestTensors.Input(2, 32)).Gates!["C5"];
        var before = kept.clone();
        using (no_grad()) backbone.Module.get_parameter("delta.C5.gates.weight")!.add_(0.25);   // what optimizer.step does
        Assert.True(kept.Equals(before), "the gates a caller kept changed with the parameter");
    }

    [Theory]
    [MemberData(nameof(AllVariants))]
    public void WithDeltaDisabledEveryVariantIsTheBase(DeltaVariant variant, bool batchNorm)
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = Create(registry, variant, batchNorm);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = TestTensors.Input(2, 32);
        backbone.DeltaEnabled = false;
        Assert.True(backbone.BaseModel.call(x).Equals(backbone.Forward(x)["C5"]));
    }

    [Fact]
    public void GateValuesFollowTheVariantDefinitions()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = TestTensors.Input(3, 32);
        Tensor Gates(DeltaVariant v)
        {
            using var b = Create(registry, v, batchNorm: false);
            b.ReturnGates = true;
            return b.Forward(x).Gates!["C5"];                                    // [3, 3]: (0,1), (0,2), (1,2)
        }
        Assert.True(Gates(DeltaVariant.AllSkipsFixed).Equals(ones(3, 3)));
        Assert.True(Gates(DeltaVariant.AllSkipsLearnable).Equals(full(3, 3, 0.5f)));
        var existing = tensor(new float[] { 0.5f, 0f, 0.5f }).expand(3, 3);       // only (j−1, j) pairs
        Assert.True(Gates(DeltaVariant.LearnableExistingSkips).Equals(existing));

        using var random = Create(registry, DeltaVariant.RandomGates, batchNorm: false);
        random.ReturnGates = true;
        var r1 = random.Forward(x).Gates!["C5"];
        var r2 = random.Forward(x).Gates!["C5"];
        Assert.False(r1.Equals(r2));                                              // drawn afresh for every forward
        Assert.True(r1.Equals(Gates(DeltaVariant.RandomGates)));                  // from the backbone's own seeded generator
        Assert.True(r1.min().item<float>() >= 0 && r1.max().item<float>() <= 1);
        Assert.False(r1[0].Equals(r1[1]));                                        // per input

        var d = Gates(DeltaVariant.Delta);
        Assert.True(d.min().item<float>() > 0 && d.max().item<float>() < 1);
        Assert.False(d[0].Equals(d[1]));                                          // input-conditioned
    }

    /// <summary>Every gate source returns fp32 Λ whatever the dtype of h_0 (bf16 in the fast mode): the Δ arithmetic is fp32.</summary>
    [Fact]
    public void EveryGateSourceReturnsFp32GatesForABf16StageInput()
    {
        using var scope = NewDisposeScope();
        var h0 = randn(2, 8, 4, 4).to_type(ScalarType.BFloat16);
        foreach (var gates in new global::Delta.Backbones.Delta.SkipGates[]
                 {
                     new global::Delta.Backbones.Delta.DeltaGates(8, 16, 3), new global::Delta.Backbones.Delta.RandomGates(3),
                     new global::Delta.Backbones.Delta.FixedGates(3), new global::Delta.Backbones.Delta.LearnableGates(3, existingOnly: false),
                     new global::Delta.Backbones.Delta.LearnableGates(3, existingOnly: true),
                 })
        {
            using (gates)
            {
                var lambda = gates.call(h0);
                Assert.Equal(ScalarType.Float32, lambda.dtype);
                Assert.Equal(new long[] { 2, 6 }, lambda.shape);
            }
        }
    }
}
