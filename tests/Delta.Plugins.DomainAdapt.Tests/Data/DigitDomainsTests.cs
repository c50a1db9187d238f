using Delta.Data.Datasets;
using Delta.Plugins.DomainAdapt.Data;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Tests.Data;

/// <summary>The plugin's view of the digit readers (the readers themselves — MNIST JSON/IDX, optdigits, USPS, SVHN —
/// are tested on real and hand-written files in Delta.Data.Tests).</summary>
public class DigitDomainsTests
{
    [Fact]
    public void Normalise_GreyBytesBecomeThreeEqualChannelsInUnitRange()
    {
        // 2 images 2x2: bytes 0 and 255 → 0 and 1; upsampling a constant image keeps the constant.
        var images = tensor(new byte[] { 0, 0, 0, 0, 255, 255, 255, 255 }).reshape(2, 1, 2, 2);
        var data = new TensorImageDataset("t", images, [3, 7], DigitReaders.Digits);
        using var n = DigitDomains.Normalise(data, "t", 4);
        Assert.Equal(new long[] { 2, 3, 4, 4 }, n.Images.shape);
        Assert.Equal(0f, n.Images[0].max().item<float>());
        Assert.Equal(1f, n.Images[1].min().item<float>());
        Assert.Equal(new long[] { 3, 7 }, n.Labels.data<long>().ToArray());
        Assert.True(n.Images[.., 0].Equals(n.Images[.., 2]));
    }

    [Fact]
    public void ToInput_ColourBecomesItsGreyMean()
    {
        using var rgb = tensor(new float[] { 0.3f, 0.6f, 0.9f }).reshape(1, 3, 1, 1).expand(1, 3, 2, 2).contiguous();
        using var x = DigitDomains.ToInput(rgb, 2);
        Assert.Equal(new long[] { 1, 3, 2, 2 }, x.shape);
        Assert.True(x.allclose(full(new long[] { 1, 3, 2, 2 }, 0.6f)));
        using var bad = zeros(1, 2, 4, 4);
        Assert.Throws<ArgumentException>(() => DigitDomains.ToInput(bad, 4));
    }

    [Fact]
    public void Split_IsDisjointStratifiedAndSeeded()
    {
        using var all = TestEnv.Domain("d", 5, 20, seed: 1);                     // 100 images, 20 per class
        var (train, test) = DigitDomains.Split(all, 40, 30, seed: 3);
        using (train) using (test)
        {
            Assert.Equal(40, train.Count);
            Assert.Equal(30, test.Count);
            Assert.All(test.Labels.bincount(null, 5).data<long>().ToArray(), c => Assert.Equal(6, c));
            Assert.All(train.Labels.bincount(null, 5).data<long>().ToArray(), c => Assert.Equal(8, c));
            // Disjoint: no test image appears among the training images (the generated images are all distinct).
            using var d = cdist(test.Images.flatten(1), train.Images.flatten(1));
            Assert.True(d.min().item<float>() > 0);
            var (train2, test2) = DigitDomains.Split(all, 40, 30, seed: 3);
            using (train2) using (test2) Assert.True(test.Images.Equals(test2.Images));
            var (train3, test3) = DigitDomains.Split(all, 40, 30, seed: 4);
            using (train3) using (test3) Assert.False(test.Images.Equals(test3.Images));
        }
    }

    [Fact]
    public void RealDomains_LoadWithTheirKnownSizes_AndUnknownNameListsTheValidOnes()
    {
        using var opt = DigitDomains.Load("optdigits", 16);
        Assert.Equal(1797, opt.Count);
        Assert.Equal(new long[] { 1797, 3, 16, 16 }, opt.Images.shape);
        Assert.True(opt.Images.min().item<float>() >= 0 && opt.Images.max().item<float>() <= 1);
        var e = Assert.Throws<ArgumentException>(() => DigitDomains.Load("usps", 16));
        Assert.Contains("mnist, optdigits", e.Message);
    }
}
