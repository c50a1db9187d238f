using Delta.Backbones.Architectures;
using Delta.Backbones.Architectures.ConvNeXts;
using Delta.Backbones.Architectures.ResNets;
using Delta.Backbones.Delta;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Delta;

public class DeltaStageTests
{
    /// <summary>Test gate source: a constant Λ, the same for every input.</summary>
    private sealed class ConstantGates : SkipGates
    {
        private readonly float[] values;
        public ConstantGates(int blocks, float[] values) : base(nameof(ConstantGates), blocks)
        {
            this.values = values;
            RegisterComponents();
        }
        public override Tensor forward(Tensor h0) =>
            tensor(values, device: h0.device).unsqueeze(0).expand(h0.shape[0], values.Length).contiguous();
    }

    private static ResNet TinyResNet(int[] layers)
    {
        var model = new ResNet(new ResNetSpec(ResNetBlockKind.Basic, layers, BaseWidth: 8));
        using var g = new Generator(5);
        model.ResetParameters(g);
        model.eval();
        return model;
    }

    [Fact]
    public void CascadeEqualsHandWrittenEquationOnAStageWithProjectionShortcut()
    {
        // Stage C3 of a [1,3,1,1] ResNet: 3 blocks, the first one downsamples (stride 2, 8→16 channels),
        // so n_0 must go through B_1's own 1x1 projection shortcut.
        using var model = TinyResNet(new[] { 1, 3, 1, 1 });
        var stage = model.Stages[1];
        Assert.NotNull(stage.Shortcut);
        var lambda = new[] { 0.25f, 0.5f, -1.5f, 2f, 0.125f, 0.75f };   // (0,1),(0,2),(1,2),(0,3),(1,3),(2,3)
        using var deltaStage = new DeltaStage(stage, new ConstantGates(3, lambda), batchNorm: false);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var h0 = TestTensors.Input(2, 16, seed: 9).narrow(1, 0, 1).expand(2, 8, 16, 16).contiguous() * 0.5;
        var b = stage.Blocks;
        var n0 = stage.Shortcut!.call(h0);
        var h1 = b[0].call(h0) + 0.25f * n0;
        var h2 = b[1].call(h1) + (0.5f * n0 + -1.5f * h1);
        var h3 = b[2].call(h2) + (2f * n0 + 0.125f * h1 + 0.75f * h2);

        var actual = deltaStage.Forward(h0, out var gates);
        Assert.True(h3.allclose(actual, rtol: 1e-6, atol: 1e-6), $"max |diff| = {TestTensors.MaxAbsDiff(h3, actual)}");
        Assert.Equal(new long[] { 2, 6 }, gates.shape);
        Assert.False(h3.allclose(stage.ForwardPlain(h0), rtol: 1e-3, atol: 1e-3));   // the skips really contribute
    }

    [Fact]
    public void ConvNeXtStageReadsTheOutputOfItsDownsamplingLayerAsH0()
    {
        using var model = new ConvNeXt(new ConvNeXtSpec(new[] { 1, 2, 1, 1 }, new[] { 8, 16, 32, 64 }));
        using (var g = new Generator(5)) model.ResetParameters(g);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.EndsWith("layer_scale")) p.fill_(0.5);   // make the blocks matter
        model.eval();
        var stage = model.Stages[1];
        Assert.NotNull(stage.Entry);
        Assert.Null(stage.Shortcut);
        using var deltaStage = new DeltaStage(stage, new ConstantGates(2, new[] { 0.3f, -0.7f, 1.1f }), batchNorm: false);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = TestTensors.Input(2, 8, seed: 3).repeat(1, 3, 1, 1).narrow(1, 0, 8).contiguous();   // C2 output [2, 8, 8, 8]
        var h0 = stage.Entry!.call(x);                                                               // [2, 16, 4, 4]
        var h1 = stage.Blocks[0].call(h0) + 0.3f * h0;
        var h2 = stage.Blocks[1].call(h1) + (-0.7f * h0 + 1.1f * h1);
        var actual = deltaStage.Forward(x, out _);
        Assert.True(h2.allclose(actual, rtol: 1e-6, atol: 1e-6), $"max |diff| = {TestTensors.MaxAbsDiff(h2, actual)}");
    }

    [Fact]
    public void SkipBatchNormNormalisesTheGatedSumBeforeItIsAdded()
    {
        // Eval-mode BN with running mean m and var v and affine (γ, β): BN(S) = γ (S − m) / sqrt(v + ε) + β.
        using var model = TinyResNet(new[] { 1, 1, 1, 2 });
        var stage = model.Stages[3];   // 2 blocks, first one projects 32→64 channels
        using var deltaStage = new DeltaStage(stage, new ConstantGates(2, new[] { 0.5f, 1f, 2f }), batchNorm: true);
        var bns = deltaStage.modules().OfType<TorchSharp.Modules.BatchNorm2d>().ToList();
        Assert.Equal(2, bns.Count);   // one per target block j
        using (no_grad())
            foreach (var bn in bns)
            {
                bn.weight!.fill_(1.5); bn.bias!.fill_(0.25);
                bn.running_mean!.fill_(0.1); bn.running_var!.fill_(4.0);
            }
        deltaStage.eval();

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var h0 = TestTensors.Input(1, 4, seed: 2).repeat(1, 11, 1, 1).narrow(1, 0, 32).contiguous();
        Tensor Bn(Tensor s) => 1.5 * (s - 0.1) / Math.Sqrt(4.0 + 1e-5) + 0.25;
        var n0 = stage.Shortcut!.call(h0);
        var h1 = stage.Blocks[0].call(h0) + Bn(0.5 * n0);
        var h2 = stage.Blocks[1].call(h1) + Bn(1.0 * n0 + 2.0 * h1);
        var actual = deltaStage.Forward(h0, out _);
        Assert.True(h2.allclose(actual, rtol: 1e-5, atol: 1e-5), $"max |diff| = {TestTensors.MaxAbsDiff(h2, actual)}");
    }

    [Fact]
    public void ZeroInitialisedSkipBatchNormStartsAtTheBaseFunction()
    {
        using var model = TinyResNet(new[] { 2, 2, 2, 2 });
        var stage = model.Stages[2];
        using var deltaStage = new DeltaStage(stage, new DeltaGates(stage.InputChannels, 16, 2), batchNorm: true);
        using (var g = new Generator(1)) deltaStage.ResetParameters(g);
        deltaStage.train();   // even with batch statistics: γ = 0, β = 0 ⇒ skip term is exactly 0

        using var scope = NewDisposeScope();
        var h0 = TestTensors.Input(2, 8, seed: 4).repeat(1, 6, 1, 1).narrow(1, 0, stage.InputChannels).contiguous();
        var expected = stage.ForwardPlain(h0);
        var actual = deltaStage.Forward(h0, out _);
        Assert.True(expected.Equals(actual));
    }

    [Fact]
    public void ModuleHoldsOnlyDeltaParametersNotTheStage()
    {
        using var model = TinyResNet(new[] { 2, 2, 2, 2 });
        var stage = model.Stages[3];
        using var deltaStage = new DeltaStage(stage, new DeltaGates(stage.InputChannels, 16, 2), batchNorm: true);
        var names = deltaStage.named_parameters().Select(p => p.name).ToList();
        Assert.All(names, n => Assert.True(n.StartsWith("gates.") || n.StartsWith("skip_bn."), n));
        Assert.Contains("gates.fc.weight", names);
        Assert.Contains("skip_bn.1.weight", names);
    }
}
