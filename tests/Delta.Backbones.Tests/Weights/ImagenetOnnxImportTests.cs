using Delta.Abstractions;
using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using Delta.Backbones.Weights.Cntk;
using Delta.Backbones.Weights.Onnx;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Tensor = TorchSharp.torch.Tensor;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Weights;

/// <summary>The real ImageNet ResNet-18, imported by Delta's own ONNX reader, against ONNX Runtime on real photos.</summary>
public sealed class ImagenetOnnxImportTests
{
    static ImagenetOnnxImportTests() => torchvision.io.DefaultImager = new torchvision.io.SkiaImager();

    /// <summary>Photos from the asset cache as RGB [1, 3, 224, 224] in [0, 1].</summary>
    public static IEnumerable<(string Name, Tensor Rgb)> Photos()
    {
        var dir = AssetPaths.Require(AssetPaths.Photos);
        var files = Directory.GetFiles(dir).Where(f => f.EndsWith(".png") || f.EndsWith(".jpg")).OrderBy(f => f, StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 6, $"expected at least 6 photos in {dir}");
        foreach (var f in files)
        {
            using var u8 = torchvision.io.read_image(f, torchvision.io.ImageReadMode.RGB);
            using var f32 = u8.to_type(ScalarType.Float32).div_(255f);
            var resized = torchvision.transforms.functional.resize(f32.unsqueeze(0), 224, 224);
            yield return (Path.GetFileName(f), resized);
        }
    }

    private static float[] RunOrt(InferenceSession session, string input, Tensor x)
    {
        var data = x.contiguous().data<float>().ToArray();
        var dense = new DenseTensor(data, x.shape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, dense)]);
        return results.First().AsEnumerable<float>().ToArray();
    }

    [Fact]
    public void PooledFeaturesEqualOnnxRuntimeOnRealPhotos()
    {
        using var registry = BackboneRegistry.CreateDefault();
        using var backbone = registry.Create(new BackboneRequest { Architecture = "resnet18_cntk", Weights = "imagenet", Delta = DeltaConfig.None });
        Assert.IsType<CntkResNetPreprocessing>(backbone.Preprocessing);
        // The same shared base with Δ(1) attached but disabled must give the very same features.
        using var detached = registry.Create(new BackboneRequest { Architecture = "resnet18_cntk", Weights = "imagenet", Delta = new DeltaConfig { Stages = 1 } });
        detached.DeltaEnabled = false;
        using var session = new InferenceSession(AssetPaths.Require(AssetPaths.ResNet18Onnx));
        var inputName = session.InputMetadata.Keys.Single();
        double worst = 0;
        int photos = 0;
        foreach (var (name, rgb) in Photos())
        {
            using var scope = NewDisposeScope();
            var x = backbone.Preprocessing.Apply(rgb);
            var expected = RunOrt(session, inputName, x);
            using var ng = no_grad();
            var pooled = backbone.Forward(x).Pooled;
            Assert.True(detached.Forward(x).Pooled.Equals(pooled), $"{name}: Δ(1) disabled differs from the plain base");
            var ours = pooled.contiguous().data<float>().ToArray();
            Assert.Equal(512, ours.Length);
            Assert.Equal(expected.Length, ours.Length);
            var diff = ours.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(diff < 1e-4, $"{name}: max |ours − ORT| = {diff}");
            worst = Math.Max(worst, diff);
            photos++;
            rgb.Dispose();
        }
        Assert.True(photos >= 6);
        Console.WriteLine($"ImageNet ResNet-18 import: max |Delta − ONNX Runtime| over {photos} photos = {worst:E2}");
    }

    [Fact]
    public void PreprocessingEqualsResNetPreprocessOnnx()
    {
        var pre = ImagenetOnnxWeights.LoadPreprocessing();
        using var session = new InferenceSession(AssetPaths.Require(ImagenetOnnxWeights.PreprocessOnnx));
        var inputName = session.InputMetadata.Keys.Single();
        double worst = 0;
        foreach (var (name, rgb) in Photos())
        {
            using var scope = NewDisposeScope();
            var expected = RunOrt(session, inputName, rgb * 255f);              // the ONNX graph takes RGB 0–255
            var ours = pre.Apply(rgb).contiguous().data<float>().ToArray();
            var diff = ours.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(diff < 1e-4, $"{name}: max diff {diff}");
            worst = Math.Max(worst, diff);
            rgb.Dispose();
        }
        Console.WriteLine($"CntkResNetPreprocessing vs ResNetPreprocess.onnx: max |diff| = {worst:E2}");
        // Per-channel means of the mean image, as documented (B 103.06, G 115.90, R 123.15).
        Assert.Equal(103.06, pre.ChannelMeanBgr[0], 1);
        Assert.Equal(115.90, pre.ChannelMeanBgr[1], 1);
        Assert.Equal(123.15, pre.ChannelMeanBgr[2], 1);
    }

    [Fact]
    public void PreprocessingAtOtherSizesSubtractsTheChannelMeansInBgrOrder()
    {
        var pre = ImagenetOnnxWeights.LoadPreprocessing();
        using var scope = NewDisposeScope();
        var rgb = zeros(1, 3, 4, 6);
        rgb[0, 0] = full(4, 6, 1f);                                                      // pure red, 0 green, 0 blue
        rgb[0, 1] = full(4, 6, 0.5f);
        var y = pre.Apply(rgb);
        Assert.Equal(new long[] { 1, 3, 4, 6 }, y.shape);
        var m = pre.ChannelMeanBgr;
        Assert.True(y[0, 0].allclose(full(4, 6, 0f - m[0]), atol: 1e-4), "B plane = 0 − mean_B");
        Assert.True(y[0, 1].allclose(full(4, 6, 127.5f - m[1]), atol: 1e-4), "G plane = 127.5 − mean_G");
        Assert.True(y[0, 2].allclose(full(4, 6, 255f - m[2]), atol: 1e-4), "R plane = 255 − mean_R");
        Assert.True(pre.Apply(rgb[0]).Equals(y[0]), "an unbatched [3, H, W] input gives the same values");
        Assert.Throws<ArgumentException>(() => pre.Apply(zeros(1, 1, 4, 4)));
    }

    [Fact]
    public void TheMappingMatchesTheGraphsWiringAndASwapThatShapesCannotSeeIsCaught()
    {
        var model = OnnxModel.Load(AssetPaths.Require(AssetPaths.ResNet18Onnx));
        Assert.Equal(110, model.Initializers.Count);
        Assert.Empty(CntkGraphCheck.Problems(model, CntkResNet18Mapping.TorchToOnnx));
        // conv1 and conv2 of layer4.1 have the same shape, so only the graph can tell them apart.
        var map = CntkResNet18Mapping.TorchToOnnx.ToDictionary(kv => kv.Key, kv => kv.Value);
        (map["layer4.1.conv1.weight"], map["layer4.1.conv2.weight"]) = (map["layer4.1.conv2.weight"], map["layer4.1.conv1.weight"]);
        Assert.Equal(model.Initializers[map["layer4.1.conv1.weight"]].Dims, model.Initializers[map["layer4.1.conv2.weight"]].Dims);
        var problems = CntkGraphCheck.Problems(model, map);
        Assert.Contains(problems, p => p.Contains("layer4.1.bn1") && p.Contains("does not read the output of layer4.1.conv1"));
        Assert.Contains(problems, p => p.Contains("layer4.1.bn2") && p.Contains("does not read the output of layer4.1.conv2"));
        map.Remove("bn1.running_var");
        Assert.Contains(CntkGraphCheck.Problems(model, map), p => p.Contains("bn1.running_var is not mapped"));
    }

    [Fact]
    public void ImagenetIsOnlyOfferedForTheCntkArchitecture()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var e = Assert.ThrowsAny<ArgumentException>(() => registry.Create(new BackboneRequest { Architecture = "tiny_resnet", Weights = "imagenet" }));
        Assert.Contains("imagenet", e.Message);
    }
}
