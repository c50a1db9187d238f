using Delta.Abstractions.Backbones;
using Delta.Backbones.Architectures;
using Delta.Backbones.Catalog;
using Delta.Backbones.Precision;
using Delta.Backbones.Registry;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Precision;

/// <summary>BatchNorm folding and the fp32 derived copies (folded BNs, channels-last) of a frozen base.</summary>
public class FoldedBatchNormTests
{
    /// <summary>fp32 folding rounds the weight product once instead of rounding conv and BN outputs separately; on the
    /// test-size networks the pooled features stay within this fraction of their largest value.</summary>
    private const double Fp32RelativeTolerance = 1e-5;

    /// <summary>Gives every BN of <paramref name="model"/> statistics and affine parameters far from the identity, so a
    /// wrong fold (scale or shift missing, mean and variance swapped, BN applied twice) cannot go unnoticed.</summary>
    private static void RandomizeBatchNorms(nn.Module model, ulong seed = 3)
    {
        using var g = new Generator(seed);
        using var noGrad = no_grad();
        foreach (var bn in model.modules().Prepend(model).OfType<BatchNorm2d>().Distinct())
        {
            var c = bn.running_mean!.shape[0];
            bn.running_mean.copy_(randn(c, generator: g) * 0.5);
            bn.running_var!.copy_(rand(c, generator: g) * 2 + 0.2);
            bn.weight!.copy_(rand(c, generator: g) + 0.5);
            bn.bias!.copy_(randn(c, generator: g) * 0.3);
        }
    }

    private static double RelativeMaxError(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        return (actual - expected).abs().max().item<float>() / (double)expected.abs().max().item<float>();
    }

    [Fact]
    public void FoldedConvolutionEqualsConvolutionThenBatchNormByHand()
    {
        using var scope = NewDisposeScope();
        using var conv = nn.Conv2d(3, 4, 3, padding: 1, bias: true);
        using var bn = nn.BatchNorm2d(4);
        RandomizeBatchNorms(bn);
        bn.eval();
        var x = TestTensors.Input(2, 6);
        Tensor expected;
        using (no_grad()) expected = bn.call(conv.call(x));
        // The fold by hand for channel 0 of the conv's own bias: b' = (b − μ)·γ/√(σ²+ε) + β.
        var b0 = conv.bias![0].item<float>();
        var s0 = bn.weight![0].item<float>() / MathF.Sqrt(bn.running_var![0].item<float>() + (float)bn.eps);
        var expectedBias0 = (b0 - bn.running_mean![0].item<float>()) * s0 + bn.bias![0].item<float>();

        BatchNormFolding.FoldInto(conv, bn);

        // The fold works in float64 and rounds once, this check in float32: a few ulps apart, so a tolerance (rounding
        // both to 5 decimals could land them on either side of a rounding boundary).
        var bias0 = conv.bias![0].item<float>();
        Assert.True(Math.Abs(bias0 - expectedBias0) <= 1e-5 * Math.Max(1, Math.Abs(expectedBias0)), $"folded bias {bias0} vs {expectedBias0} by hand");
        using (no_grad())
        {
            var folded = conv.call(x);
            Assert.True(RelativeMaxError(folded, expected) <= 1e-6, $"relative error {RelativeMaxError(folded, expected):G3}");
        }
    }

    [Fact]
    public void FoldingRefusesABatchNormThatIsStillTraining()
    {
        using var conv = nn.Conv2d(3, 4, 1, bias: false);
        using var bn = nn.BatchNorm2d(4);
        bn.train();
        var e = Assert.Throws<InvalidOperationException>(() => BatchNormFolding.FoldInto(conv, bn));
        Assert.Contains("eval", e.Message);
    }

    [Theory]
    [InlineData("tiny_resnet", false)]
    [InlineData("tiny_resnet", true)]
    [InlineData("tiny_bottleneck", true)]
    public void FoldedCopyComputesTheBaseFunctionWithoutRunningItsBatchNorms(string arch, bool channelsLast)
    {
        using var baseModel = BackboneCatalog.Get(arch).Build(32);
        RandomizeBatchNorms(baseModel);
        baseModel.eval();
        var hashBefore = BaseWeightsHash.Compute(baseModel);
        using var copy = FrozenBaseCopy.Build(baseModel, () => BackboneCatalog.Get(arch).Build(32), new FrozenCopyKind(ScalarType.Float32, channelsLast, true), CPU);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = TestTensors.Input(2, 32);
        var expected = baseModel.call(x);
        var folded = copy.call(FrozenBaseCopy.Convert(x, ScalarType.Float32, channelsLast));
        var error = RelativeMaxError(folded, expected);
        Assert.True(error <= Fp32RelativeTolerance, $"{arch}: relative error {error:G3}");
        Assert.Equal(hashBefore, BaseWeightsHash.Compute(baseModel));                    // the base is only read
        Assert.All(copy.modules().OfType<Conv2d>(), c => Assert.NotNull(c.bias));        // every conv took a BN
        Assert.Equal(channelsLast, copy.modules().OfType<Conv2d>().All(c => FrozenBaseCopy.IsChannelsLast(c.weight!)));

        // The copy's BNs are no longer run: wrecking their statistics changes nothing.
        foreach (var bn in copy.modules().OfType<BatchNorm2d>()) bn.running_mean!.add_(100f);
        Assert.True(folded.Equals(copy.call(FrozenBaseCopy.Convert(x, ScalarType.Float32, channelsLast))));
        // …while the same wreck on the base does (the test can fail).
        foreach (var bn in baseModel.modules().OfType<BatchNorm2d>()) bn.running_mean!.add_(100f);
        Assert.False(expected.Equals(baseModel.call(x)));
    }

    [Fact]
    public void ProjectionShortcutsKeepTorchvisionNamesAndEveryModuleIsListedOnce()
    {
        using var model = BackboneCatalog.Get("tiny_resnet").Build(32);
        var named = model.named_modules().ToList();
        Assert.Contains(named, m => m.name == "layer2.0.downsample.0" && m.module is Conv2d);
        Assert.Contains(named, m => m.name == "layer2.0.downsample.1" && m.module is BatchNorm2d);
        Assert.Equal(named.Count, named.Select(m => m.module).Distinct(ReferenceEqualityComparer.Instance).Count());
        Assert.Contains("layer2.0.downsample.1.running_var", model.state_dict().Keys);
    }

    [Fact]
    public void ConvNeXtHasNothingToFoldAndRunsChannelsLastOnly()
    {
        using var model = BackboneCatalog.Get("tiny_convnext").Build(32);
        Assert.Equal(0, model.FoldBatchNorms());
    }

    [Fact]
    public void FusedFp32BackboneMatchesTheExactModeAndTrainsTheSameDeltaGradients()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var request = new BackboneRequest { Architecture = "tiny_bottleneck", Delta = new DeltaConfig { Stages = 4, BatchNorm = false }, Seed = 9 };
        // (No skip BNs: their γ starts at 0, which would zero the gates' gradients and hide a broken path.)
        RandomizeBatchNorms(registry.GetBase(request).Model);                 // before any copy is derived from it
        using var exact = registry.CreateDelta(request);
        using var fused = registry.CreateDelta(request with { ChannelsLast = true, FoldBatchNorm = true });
        Assert.True(exact.IsExact);
        Assert.False(fused.IsExact);
        Assert.Equal(BackbonePrecision.Float32, fused.Precision);
        Assert.Equal(exact.Base, fused.Base);                                  // one identity: patches fit both
        var baseHash = BaseWeightsHash.Compute(exact.BaseModel);
        var copyHash = BaseWeightsHash.Compute(fused.FrozenCopy!);

        var x = TestTensors.Input(3, 32);
        using var y = tensor(new long[] { 0, 1, 2 });
        using var head = TestTensors.Head(exact.NumFeatures, 3);
        var gradients = new List<Dictionary<string, Tensor>>();
        foreach (var backbone in new[] { exact, fused })
        {
            using var scope = NewDisposeScope();
            backbone.Train(true);
            foreach (var p in backbone.TrainableParameters) p.grad?.zero_();
            var features = backbone.Forward(x);
            nn.functional.cross_entropy(head.call(features.Pooled), y).backward();
            gradients.Add(backbone.Module.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone().DetachFromDisposeScope()));
            backbone.Train(false);
        }
        using (no_grad())
        {
            var pooledError = RelativeMaxError(fused.Forward(x).Pooled, exact.Forward(x).Pooled);
            Assert.True(pooledError <= Fp32RelativeTolerance, $"pooled relative error {pooledError:G3}");
        }
        // Gradients reach every Δ stage through the folded, channels-last blocks and agree with the exact mode's.
        foreach (var (name, g) in gradients[0])
        {
            var f = gradients[1][name];
            Assert.True(g.abs().sum().item<float>() > 0, $"{name}: zero gradient in the exact mode");
            var error = RelativeMaxError(f, g);
            Assert.True(error <= 1e-3, $"{name}: gradient relative error {error:G3}");
        }
        Assert.Equal(baseHash, BaseWeightsHash.Compute(exact.BaseModel));
        Assert.Equal(copyHash, BaseWeightsHash.Compute(fused.FrozenCopy!));
        Assert.All(fused.FrozenCopy!.parameters(), p => Assert.Null(p.grad));
        foreach (var d in gradients) foreach (var t in d.Values) t.Dispose();
    }

    [Fact]
    public void EachCopyKindIsBuiltOnceAndSharedAndTheExactModeStaysBitIdentical()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var request = new BackboneRequest { Architecture = "tiny_resnet", Delta = new DeltaConfig { Stages = 2 } };
        using var exact = registry.CreateDelta(request);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = TestTensors.Input(2, 32);
        var before = exact.Forward(x).Pooled;
        using var a = registry.CreateDelta(request with { FoldBatchNorm = true });
        using var b = registry.CreateDelta(request with { FoldBatchNorm = true });
        using var c = registry.CreateDelta(request with { FoldBatchNorm = true, ChannelsLast = true });
        Assert.Same(a.FrozenCopy, b.FrozenCopy);
        Assert.NotSame(a.FrozenCopy, c.FrozenCopy);
        Assert.Null(exact.FrozenCopy);
        _ = c.Forward(x);
        Assert.True(before.Equals(exact.Forward(x).Pooled));
        exact.DeltaEnabled = false;
        Assert.True(exact.BaseModel.call(x).Equals(exact.Forward(x)["C5"]));
    }
}
