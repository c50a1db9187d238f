using Delta.Abstractions;
using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using Delta.Data.Datasets;
using Delta.Data.Images;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Bench;

public sealed partial class Suites
{
    /// <summary>
    /// The fast mode's numerical difference on the base task, real ResNet-18 (resnet18_cntk, imagenet), no Δ-modules:
    /// (1) pooled features of the real photos at 224x224, fp32 vs fast; (2) a Fashion-MNIST base task — a linear
    /// head trained (full batch AdamW, fixed seed) on fp32 features of the first N training images, then applied to
    /// the fp32 and the fast features of the first N/2 test images: max |Δlogit|, top-1 agreement, both accuracies.
    /// The CNTK ResNet-18 has no ImageNet classifier (ASSETS.md), so a trained head is the base task here.
    /// Fast precisions: those of <see cref="BenchOptions.Precisions"/>, or the fast mode (bf16+cl+fold) when only fp32 was asked.
    /// </summary>
    public IEnumerable<BenchResult> Precision()
    {
        using var registry = BackboneRegistry.CreateDefault();
        var request = new BackboneRequest { Architecture = "resnet18_cntk", Weights = "imagenet", Delta = DeltaConfig.None, Device = device };
        var fastModes = o.Precisions.Where(p => !p.IsExact && !p.DeltaBf16 && !p.SkipBf16).DefaultIfEmpty(BenchPrecision.Fast).ToList();   // no Δ here: +dbf16, +sbf16 change nothing
        using var exact = registry.Create(request);

        // (1) Real photos, resized to 224x224.
        var files = Directory.GetFiles(AssetPaths.Require(AssetPaths.Photos)).Where(f => f.EndsWith(".png") || f.EndsWith(".jpg")).Order(StringComparer.Ordinal).ToArray();
        using var photos = Preprocessed(exact, files.Select(f =>
        {
            using var rgb = ImageCodec.ReadRgb(f);
            return nn.functional.interpolate(rgb.unsqueeze(0), [224, 224], mode: InterpolationMode.Bilinear, align_corners: false);
        }).ToList());
        using var exactPhotos = Features(exact, photos);

        // (2) Fashion-MNIST base task.
        var folder = AssetPaths.Require(AssetPaths.FashionMnist);
        int nTrain = o.PrecisionImages, nTest = o.PrecisionImages / 2;
        using var trainX = FashionMnist(exact, Path.Combine(folder, "train-images-idx3-ubyte.gz"), nTrain);
        using var testX = FashionMnist(exact, Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), nTest);
        using var trainY = tensor(IdxReader.ReadLabels(Path.Combine(folder, "train-labels-idx1-ubyte.gz"), 10, nTrain).Select(v => (long)v).ToArray(), device: device);
        using var testY = tensor(IdxReader.ReadLabels(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"), 10, nTest).Select(v => (long)v).ToArray(), device: device);
        using var trainF = Features(exact, trainX);
        using var testF = Features(exact, testX);
        using var head = TrainLinearHead(trainF, trainY, 10);
        using var exactLogits = Logits(head, testF);
        var exactAccuracy = Agreement(exactLogits.argmax(1), testY);

        foreach (var mode in fastModes)
        {
            using var fast = registry.Create(mode.Apply(request));
            using var fastPhotos = Features(fast, photos);
            using var fastTestF = Features(fast, testX);
            using var fastLogits = Logits(head, fastTestF);
            var photoSettings = S(("arch", "resnet18_cntk"), ("images", files.Length), ("size", 224), ("precision", mode.Label));
            var taskSettings = S(("arch", "resnet18_cntk"), ("train images", nTrain), ("test images", nTest), ("size", FashionSize), ("precision", mode.Label));
            using (var scope = NewDisposeScope())
            {
                var diff = (fastPhotos - exactPhotos).abs();
                yield return new("precision", $"photos pooled max |Δfeature| [{mode.Label}]", diff.max().item<float>(), "abs", photoSettings);
                yield return new("precision", $"photos pooled max |Δfeature| / max |feature| [{mode.Label}]", diff.max().item<float>() / exactPhotos.abs().max().item<float>(), "ratio", photoSettings);
                yield return new("precision", $"photos pooled min cosine [{mode.Label}]", nn.functional.cosine_similarity(fastPhotos, exactPhotos, 1).min().item<float>(), "cos", photoSettings);
                yield return new("precision", $"fashion-mnist head max |Δlogit| [{mode.Label}]", (fastLogits - exactLogits).abs().max().item<float>(), "abs", taskSettings);
                yield return new("precision", $"fashion-mnist head max |logit| fp32", exactLogits.abs().max().item<float>(), "abs", taskSettings);
                yield return new("precision", $"fashion-mnist top-1 agreement fast vs fp32 [{mode.Label}]", 100 * Agreement(fastLogits.argmax(1), exactLogits.argmax(1)), "%", taskSettings);
                yield return new("precision", "fashion-mnist test accuracy fp32", 100 * exactAccuracy, "%", taskSettings);
                yield return new("precision", $"fashion-mnist test accuracy [{mode.Label}]", 100 * Agreement(fastLogits.argmax(1), testY), "%", taskSettings);
            }
        }
    }

    private const int FashionSize = 112;

    /// <summary>The first <paramref name="count"/> images of an IDX file, grey → RGB, upsampled to 112x112, preprocessed.</summary>
    private Tensor FashionMnist(IDeltaBackbone backbone, string path, int count)
    {
        using var scope = NewDisposeScope();
        var grey = IdxReader.ReadImages(path, count);                                              // [N, 1, 28, 28] in [0, 1]
        var rgb = nn.functional.interpolate(grey.expand(-1, 3, -1, -1), [FashionSize, FashionSize], mode: InterpolationMode.Bilinear, align_corners: false);
        return backbone.Preprocessing.Apply(rgb.to(device)).MoveToOuterDisposeScope();
    }

    private Tensor Preprocessed(IDeltaBackbone backbone, List<Tensor> images)
    {
        using var scope = NewDisposeScope();
        try { return backbone.Preprocessing.Apply(cat(images, 0).to(device)).MoveToOuterDisposeScope(); }
        finally { foreach (var t in images) t.Dispose(); }
    }

    /// <summary>Pooled features [N, C] in fp32, computed in chunks of 50 under inference mode.</summary>
    private static Tensor Features(IDeltaBackbone backbone, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var chunks = new List<Tensor>();
        for (long i = 0; i < images.shape[0]; i += 50)
            chunks.Add(backbone.Forward(images.narrow(0, i, Math.Min(50, images.shape[0] - i))).Pooled);
        return cat(chunks, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Linear head on fixed features: 300 full-batch AdamW steps, seeded. Features are inference tensors, so
    /// they are cloned into normal tensors first (autograd may not save inference tensors).</summary>
    private static nn.Module<Tensor, Tensor> TrainLinearHead(Tensor features, Tensor labels, int classes)
    {
        manual_seed(0);
        var head = nn.Linear(features.shape[1], classes);
        head.to(features.device);
        using var x = features.clone();
        using var optimizer = optim.AdamW(head.parameters(), lr: 1e-2, weight_decay: 0);
        for (int step = 0; step < 300; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(head.call(x), labels).backward();
            optimizer.step();
        }
        return head;
    }

    private static Tensor Logits(nn.Module<Tensor, Tensor> head, Tensor features)
    {
        using var mode = inference_mode();
        return head.call(features);
    }

    private static double Agreement(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.eq(b).to_type(ScalarType.Float32).mean().item<float>();
    }
}
