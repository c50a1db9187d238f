using Delta.Backbones.Architectures.ResNets;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Architectures;

public class ResNetTests
{
    private static nn.Module<Tensor, Tensor> Child(nn.Module m, string name) =>
        (nn.Module<Tensor, Tensor>)m.named_children().First(c => c.name == name).module;

    /// <summary>torchvision .NET's trunk, run child by child up to (not including) avgpool.</summary>
    private static Tensor TorchVisionTrunk(nn.Module tv, Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x;
        foreach (var name in new[] { "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4" })
            h = Child(tv, name).call(h);
        return h.MoveToOuterDisposeScope();
    }

    private static void AssertSameAsTorchVision(ResNet ours, nn.Module tv, int size)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(11);
        using var generator = new Generator(3);
        ours.ResetParameters(generator);
        // Make the BN buffers non-trivial so a wrong buffer mapping cannot hide.
        using (no_grad())
            foreach (var (name, b) in ours.named_buffers())
                if (name.EndsWith("running_mean")) b.uniform_(-0.1, 0.1);
                else if (name.EndsWith("running_var")) b.uniform_(0.5, 1.5);

        var ourKeys = ours.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var tvKeys = tv.state_dict().Keys.Where(k => !k.StartsWith("fc.")).OrderBy(k => k, StringComparer.Ordinal).ToList();
        Assert.Equal(tvKeys, ourKeys);

        var (missing, unexpected) = tv.load_state_dict(ours.state_dict(), strict: false);
        Assert.All(missing, k => Assert.StartsWith("fc.", k));
        Assert.Empty(unexpected);
        ours.eval(); tv.eval();

        var x = TestTensors.Input(2, size);
        using var noGrad = no_grad();
        var expected = TorchVisionTrunk(tv, x);
        var actual = ours.call(x);
        Assert.True(expected.Equals(actual), $"max |diff| = {TestTensors.MaxAbsDiff(expected, actual)}");
    }

    [Fact]
    public void ResNet18TrunkEqualsTorchVisionBitForBit()
    {
        using var ours = new ResNet(new ResNetSpec(ResNetBlockKind.Basic, new[] { 2, 2, 2, 2 }));
        using var tv = torchvision.models.resnet18();
        AssertSameAsTorchVision(ours, tv, 64);
    }

    [Fact]
    public void ResNet50TrunkEqualsTorchVisionBitForBit()
    {
        using var ours = new ResNet(new ResNetSpec(ResNetBlockKind.Bottleneck, new[] { 3, 4, 6, 3 }));
        using var tv = torchvision.models.resnet50();
        AssertSameAsTorchVision(ours, tv, 32);
    }

    [Fact]
    public void DilatedResNet50EqualsTorchVisionReplaceStrideWithDilation()
    {
        using var ours = new ResNet(new ResNetSpec(ResNetBlockKind.Bottleneck, new[] { 3, 4, 6, 3 }), outputStride: 8);
        using var tv = torchvision.models.resnet50(replace_stride_with_dilation: (false, true, true));
        AssertSameAsTorchVision(ours, tv, 32);
        Assert.Equal(new[] { 4, 8, 8, 8 }, ours.FeatureInfo.Select(f => f.Stride));
    }

    [Fact]
    public void ResNeXtAndWideResNetTrunksEqualTorchVisionBitForBit()
    {
        using (var resnext = new ResNet(new ResNetSpec(ResNetBlockKind.Bottleneck, new[] { 3, 4, 6, 3 }, Groups: 32, WidthPerGroup: 4)))
        using (var tvResnext = torchvision.models.resnet50(groups: 32, width_per_group: 4))
            AssertSameAsTorchVision(resnext, tvResnext, 32);
        using (var wide = new ResNet(new ResNetSpec(ResNetBlockKind.Bottleneck, new[] { 3, 4, 6, 3 }, WidthPerGroup: 128)))
        using (var tvWide = torchvision.models.resnet50(width_per_group: 128))
            AssertSameAsTorchVision(wide, tvWide, 32);
    }

    [Fact]
    public void BasicBlockResNetRefusesDilation()
    {
        var e = Assert.Throws<NotSupportedException>(() => new ResNet(new ResNetSpec(ResNetBlockKind.Basic, new[] { 2, 2, 2, 2 }), outputStride: 16));
        Assert.Contains("Bottleneck", e.Message);
    }

    [Fact]
    public void StageOutputsHaveTheAdvertisedChannelsAndStrides()
    {
        using var model = new ResNet(new ResNetSpec(ResNetBlockKind.Bottleneck, new[] { 1, 2, 3, 2 }, BaseWidth: 8), outputStride: 16);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = TestTensors.Input(1, 64);
        var h = model.ForwardStem(x);
        foreach (var (stage, info) in model.Stages.Zip(model.FeatureInfo))
        {
            h = stage.ForwardPlain(h);
            Assert.Equal(new long[] { 1, info.Channels, 64 / info.Stride, 64 / info.Stride }, h.shape);
        }
        Assert.Equal(new[] { 4, 8, 16, 16 }, model.FeatureInfo.Select(f => f.Stride));
    }
}
