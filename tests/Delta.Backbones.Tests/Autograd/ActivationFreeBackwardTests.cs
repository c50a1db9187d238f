using Delta.Abstractions.Backbones;
using Delta.Backbones.Architectures;
using Delta.Backbones.Architectures.ResNets;
using Delta.Backbones.Autograd;
using Delta.Backbones.Registry;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Autograd;

/// <summary>The activation-free backward of frozen layers (<see cref="FrozenLayerBackward"/>): same values as
/// libtorch's own nodes, gradients equal up to summation order, and nothing of the input kept.</summary>
public class ActivationFreeBackwardTests
{
    /// <summary>A transposed convolution sums the same products as libtorch's convolution backward in another order;
    /// on these sizes the gradients agree to this fraction of their largest value.</summary>
    private const double GradientTolerance = 1e-5;

    private static double RelativeMaxError(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        return (actual - expected).abs().max().item<float>() / Math.Max(1e-30, (double)expected.abs().max().item<float>());
    }

    private static ConvBatchNorm FrozenUnit(int cin, int cout, int kernel, int stride, int padding, int dilation, int groups, bool folded, out nn.Module owner)
    {
        var conv = nn.Conv2d(cin, cout, kernel, stride: stride, padding: padding, dilation: dilation, groups: groups, bias: false);
        var bn = nn.BatchNorm2d(cout);
        using (var g = new Generator(11))
        using (no_grad())
        {
            conv.weight!.copy_(randn(conv.weight.shape, generator: g) * 0.3);
            bn.running_mean!.copy_(randn(cout, generator: g) * 0.5);
            bn.running_var!.copy_(rand(cout, generator: g) * 2 + 0.2);
            bn.weight!.copy_(rand(cout, generator: g) + 0.5);
            bn.bias!.copy_(randn(cout, generator: g) * 0.3);
        }
        owner = nn.Sequential(("conv", conv), ("bn", bn));
        owner.eval();
        foreach (var p in owner.parameters()) p.requires_grad = false;
        var unit = new ConvBatchNorm(conv, bn);
        if (folded) unit.Fold();
        return unit;
    }

    /// <summary>(output, ∂L/∂x) for L = Σ y ⊙ w with a fixed random w, so every output element gets its own weight.</summary>
    private static (Tensor Output, Tensor InputGradient) RunWithGradient(Func<Tensor, Tensor> layer, Tensor input, bool standard)
    {
        using var libtorchNodes = standard ? FrozenLayerBackward.Standard() : null;
        var x = input.detach().requires_grad_(true);
        var y = layer(x);
        using var g = new Generator(17);
        var w = randn(y.shape, generator: g);
        (y * w).sum().backward();
        return (y.detach(), x.grad!.clone());
    }

    public static TheoryData<int, int, int, int, int, int, int> Geometries => new()
    {
        // kernel, stride, padding, dilation, groups, input size, channels in
        { 1, 1, 0, 1, 1, 7, 8 },
        { 3, 1, 1, 1, 1, 7, 8 },
        { 3, 2, 1, 1, 1, 8, 8 },   // even input: no output padding
        { 3, 2, 1, 1, 1, 7, 8 },   // odd input: the gradient needs an output padding to get back to 7
        { 1, 2, 0, 1, 1, 7, 8 },   // a projection shortcut on an odd map
        { 7, 2, 3, 1, 1, 11, 3 },  // the stem
        { 3, 1, 1, 1, 4, 7, 8 },   // grouped (ResNeXt)
        { 3, 1, 2, 2, 1, 9, 8 },   // dilated (output stride 8/16)
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void FrozenUnitMatchesLibtorchsNodesForEveryGeometry(int kernel, int stride, int padding, int dilation, int groups, int size, int cin)
    {
        foreach (var folded in new[] { false, true })
            foreach (var relu in new[] { false, true })
            {
                using var scope = NewDisposeScope();
                var unit = FrozenUnit(cin, 8, kernel, stride, padding, dilation, groups, folded, out var owner);
                using var _ = owner;
                Func<Tensor, Tensor> layer = relu ? unit.ForwardRelu : unit.Forward;
                var input = TestTensors.Input(2, size, seed: 5).repeat(1, 3, 1, 1).narrow(1, 0, cin).contiguous();
                var (expectedY, expectedGrad) = RunWithGradient(layer, input, standard: true);
                var (actualY, actualGrad) = RunWithGradient(layer, input, standard: false);

                var what = $"k{kernel} s{stride} p{padding} d{dilation} g{groups} {size}² folded={folded} relu={relu}";
                Assert.True(expectedY.eq(actualY).all().item<bool>(), $"{what}: forward values differ");
                Assert.Equal(expectedGrad.shape, actualGrad.shape);
                Assert.True(RelativeMaxError(actualGrad, expectedGrad) < GradientTolerance, $"{what}: gradient error {RelativeMaxError(actualGrad, expectedGrad):E2}");
                if (relu) Assert.True(actualY.eq(0).any().item<bool>(), $"{what}: the ReLU never clipped, so its mask went untested");
            }
    }

    [Fact]
    public void FrozenUnitKeepsNothingOfItsInputForBackward()
    {
        // libtorch's convolution saves its input; changing that input in place before backward is then an error.
        // The activation-free node saves nothing of it, so the same in-place change is harmless and the gradient is
        // the one of the unchanged input (it does not depend on x at all, only on the ReLU mask of the output).
        using var scope = NewDisposeScope();
        var unit = FrozenUnit(8, 8, 3, 1, 1, 1, 1, folded: false, out var owner);
        using var _ = owner;
        var input = TestTensors.Input(2, 6, seed: 8).repeat(1, 3, 1, 1).narrow(1, 0, 8).contiguous();

        var (_, expectedGrad) = RunWithGradient(unit.ForwardRelu, input, standard: true);

        var leaf = input.clone().requires_grad_(true);
        var x = leaf * 1;                       // a non-leaf that may be modified in place
        var y = unit.ForwardRelu(x);
        using (no_grad()) x.add_(100);
        y.sum().backward();
        // Gradient of Σ y (all-ones weights) vs Σ y ⊙ w above: compare with the all-ones gradient by libtorch's nodes.
        Tensor libtorchGrad;
        using (FrozenLayerBackward.Standard())
        {
            var leaf2 = input.clone().requires_grad_(true);
            var y2 = unit.ForwardRelu(leaf2 * 1);
            y2.sum().backward();
            libtorchGrad = leaf2.grad!;
        }
        Assert.True(RelativeMaxError(leaf.grad!, libtorchGrad) < GradientTolerance);
        Assert.Equal(expectedGrad.shape, leaf.grad!.shape);

        using (FrozenLayerBackward.Standard())
        {
            var leaf3 = input.clone().requires_grad_(true);
            var x3 = leaf3 * 1;
            var y3 = unit.Forward(x3);
            using (no_grad()) x3.add_(100);
            Assert.ThrowsAny<Exception>(() => y3.sum().backward());
        }
    }

    [Theory]
    [InlineData(ResNetBlockKind.Basic)]
    [InlineData(ResNetBlockKind.Bottleneck)]
    public void FrozenResidualBlockKeepsNothingOfItsInput(ResNetBlockKind kind)
    {
        using var model = new global::Delta.Backbones.Architectures.ResNets.ResNet(new ResNetSpec(kind, new[] { 2, 1, 1, 1 }, BaseWidth: 8));
        using (var g = new Generator(5)) model.ResetParameters(g);
        model.eval();
        foreach (var p in model.parameters()) p.requires_grad = false;
        using var scope = NewDisposeScope();
        Tensor input = TestTensors.Input(2, 6, seed: 2).repeat(1, 11, 1, 1).narrow(1, 0, model.Stages[0].InputChannels).contiguous();
        foreach (var block in model.Stages[0].Blocks)   // the first with a projection shortcut (Bottleneck), the second without
        {
            Tensor expected;
            using (FrozenLayerBackward.Standard())
            {
                var leaf = input.clone().requires_grad_(true);
                block.call(leaf * 1).sum().backward();
                expected = leaf.grad!;
            }
            var leaf2 = input.clone().requires_grad_(true);
            var x = leaf2 * 1;
            var y = block.call(x);
            using (no_grad()) x.mul_(-3);   // would trip libtorch's version check on any node that saved x
            y.sum().backward();
            Assert.True(RelativeMaxError(leaf2.grad!, expected) < GradientTolerance, $"{kind}: gradient error {RelativeMaxError(leaf2.grad!, expected):E2}");
            using (no_grad()) input = block.call(input);
        }
    }

    [Fact]
    public void RetainedGraphGivesTheSameGradientOnASecondBackward()
    {
        // The masks stay with the graph, so a retained graph can be walked again: the gradient accumulates twice.
        using var scope = NewDisposeScope();
        var unit = FrozenUnit(8, 8, 3, 2, 1, 1, 1, folded: false, out var owner);
        using var _ = owner;
        var x = TestTensors.Input(1, 7).repeat(1, 3, 1, 1).narrow(1, 0, 8).contiguous().requires_grad_(true);
        var loss = unit.ForwardRelu(x).sum();
        loss.backward(retain_graph: true);
        var once = x.grad!.clone();
        loss.backward();
        Assert.True(x.grad!.allclose(once * 2, rtol: 1e-6, atol: 0));
        Assert.True(once.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void TrainableAndTrainingModeLayersKeepLibtorchsNodes()
    {
        using var scope = NewDisposeScope();
        var unit = FrozenUnit(8, 8, 3, 1, 1, 1, 1, folded: false, out var owner);
        using var _ = owner;
        var input = TestTensors.Input(2, 6).repeat(1, 3, 1, 1).narrow(1, 0, 8).contiguous();
        // A trainable conv: its weight gets a gradient, which the activation-free node could not give.
        foreach (var p in owner.parameters()) p.requires_grad = true;
        var x = input.clone().requires_grad_(true);
        unit.ForwardRelu(x).sum().backward();
        Assert.NotNull(owner.parameters().First().grad);
        Assert.True(owner.parameters().First().grad!.abs().sum().item<float>() > 0);
        // A frozen conv before a BN in training mode (batch statistics): libtorch's nodes, whose gradient includes the
        // statistics' dependence on x; a per-channel scale would not.
        foreach (var p in owner.parameters()) p.requires_grad = false;
        owner.train();
        var x2 = input.clone().requires_grad_(true);
        var y2 = unit.ForwardRelu(x2);
        using (no_grad()) x2.add_(0);   // a leaf: in-place under no_grad is allowed and bumps the version
        Assert.ThrowsAny<Exception>(() => y2.sum().backward());   // libtorch saved x2: its version check fires
    }

    public static TheoryData<string, int> DeltaNetworks => new()
    {
        { "tiny_resnet", 32 },
        { "tiny_bottleneck", 32 },
        { "tiny_bottleneck", 8 },   // dilated last stages
    };

    [Theory]
    [MemberData(nameof(DeltaNetworks))]
    public void DeltaGradientsMatchLibtorchsNodesAndTheBaseGetsNone(string architecture, int outputStride)
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.CreateDelta(new BackboneRequest
        {
            Architecture = architecture,
            Delta = new DeltaConfig { Stages = 4 },
            OutputStride = outputStride,
            Seed = 3,
        });
        // Skip BNs start at γ = 0 (no gradient reaches the gates on step 0); give them a scale so every Δ parameter
        // gets a gradient to compare.
        using (no_grad())
            foreach (var bn in backbone.Module.modules().OfType<BatchNorm2d>()) bn.weight!.fill_(0.7);
        backbone.Train(true);
        var input = TestTensors.Input(2, 40, seed: 4);

        Dictionary<string, Tensor> Gradients(bool standard, out Tensor pooled)
        {
            using var libtorchNodes = standard ? FrozenLayerBackward.Standard() : null;
            using var singleBackward = standard ? null : FrozenLayerBackward.SingleBackward();   // as the Trainer runs it
            foreach (var p in backbone.TrainableParameters) p.grad = null;
            var features = backbone.Forward(input);
            pooled = features.Pooled.detach();
            using var g = new Generator(21);
            (features.Pooled * randn(features.Pooled.shape, generator: g)).sum().backward();
            return backbone.Module.named_parameters().Where(p => p.parameter.requires_grad)
                .ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        }

        var expected = Gradients(standard: true, out var expectedPooled);
        var actual = Gradients(standard: false, out var actualPooled);

        Assert.True(expectedPooled.eq(actualPooled).all().item<bool>(), "the forward pass changed");
        Assert.NotEmpty(expected);
        // Errors are measured against the largest gradient of the same layer: a bias gradient is a sum over the batch
        // that can cancel down to a small fraction of its weight's, and its rounding error does not cancel with it.
        static string Layer(string name) => name[..name.LastIndexOf('.')];
        var layerScale = expected.GroupBy(p => Layer(p.Key)).ToDictionary(g => g.Key, g => g.Max(p => p.Value.abs().max().item<float>()));
        foreach (var (name, grad) in expected)
        {
            Assert.True(grad.abs().sum().item<float>() > 0, $"{name}: no gradient in the reference run");
            var error = (actual[name] - grad).abs().max().item<float>() / layerScale[Layer(name)];
            Assert.True(error < GradientTolerance * 10, $"{name}: gradient error {error:E2} of the layer's largest gradient");
        }
        Assert.All(backbone.BaseModel.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void SingleBackwardScopesNestAndEnd()
    {
        Assert.False(FrozenLayerBackward.ReleasesAfterBackward);
        using (FrozenLayerBackward.SingleBackward())
        {
            using (FrozenLayerBackward.SingleBackward()) Assert.True(FrozenLayerBackward.ReleasesAfterBackward);
            Assert.True(FrozenLayerBackward.ReleasesAfterBackward);
        }
        Assert.False(FrozenLayerBackward.ReleasesAfterBackward);
        var scope = FrozenLayerBackward.Standard();
        Assert.False(FrozenLayerBackward.ActivationFree);
        scope.Dispose();
        scope.Dispose();   // a second dispose does not reopen anything
        Assert.True(FrozenLayerBackward.ActivationFree);
    }
}
