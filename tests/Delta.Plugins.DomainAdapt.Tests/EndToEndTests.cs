using Delta.Plugins.DomainAdapt.Data;
using Delta.Plugins.DomainAdapt.Methods;
using Delta.Plugins.DomainAdapt.Models;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Tests;

/// <summary>A short real run: the pretrained ResNet-18 (resnet18_cntk, imagenet), MNIST → optdigits subsets at 32 px,
/// source training of Δ(4) + classifier, then ADDA on the target Δ-modules. optdigits stands in for USPS; it is not USPS.</summary>
public sealed class EndToEndTests : IDisposable
{
    private readonly TestEnv env = new();
    public void Dispose() => env.Dispose();

    [Fact]
    [Trait("Category", "Slow")]
    public void MnistToOptdigits_AdaptationMovesTheTargetModel_SourceAccuracyExactlyUnchanged()
    {
        const int seed = 0, size = 32;
        var s = new MethodSettings { BatchSize = 16, SourceSteps = 30, AdaptSteps = 20 };
        using var mnist = DigitDomains.Load("mnist", size);
        using var optdigits = DigitDomains.Load("optdigits", size);
        var (sourceTrain, sourceTest) = DigitDomains.Split(mnist, 300, 200, seed);
        var (targetTrain, targetTest) = DigitDomains.Split(optdigits, 300, 200, seed);
        using (sourceTrain) using (sourceTest) using (targetTrain) using (targetTest)
        using (var unlabelled = targetTrain.WithoutLabels())
        {
            using var source = DomainEncoder.Create(env.Registry, "resnet18_cntk", "imagenet", 4, seed, CPU);
            using var classifier = SourceClassifier.Seeded(source.NumFeatures, 10, seed, CPU);   // under the default generator's lock
            SourceTraining.Train(source, classifier, sourceTrain, uniformPrior: false, s, seed);
            var sourceBefore = Evaluation.Accuracy(source, classifier, sourceTest);
            var targetBefore = Evaluation.Accuracy(source, classifier, targetTest);
            Assert.True(sourceBefore > 0.5, $"source top-1 {sourceBefore:P1} after {s.SourceSteps} steps");   // it learned the source task

            using var logitsBefore = TestEnv.Logits(source, classifier, sourceTest.Images);
            using var targetLogitsBefore = TestEnv.Logits(source, classifier, targetTest.Images);
            using var target = source.CloneFor(env.Registry, "resnet18_cntk", "imagenet", seed);
            using (var adda = new AddaTrainer(source, target, sourceTrain.Images, unlabelled, uniformPrior: false, s, seed))
                adda.Run();
            var targetAfter = Evaluation.Accuracy(target, classifier, targetTest);
            var sourceAfter = Evaluation.Accuracy(source, classifier, sourceTest);

            // 20 adversarial steps move the target model's outputs but its top-1 on 200 images only by a tie or two
            // (0.32 → 0.32 or 0.325 depending on summation order), so the model's logits are what is checked: the
            // target encoder moved (by more than rounding), the source encoder did not move at all.
            using var targetLogitsAfter = TestEnv.Logits(target, classifier, targetTest.Images);
            var moved = (targetLogitsAfter - targetLogitsBefore).abs().max().item<float>();
            Assert.True(moved > 1e-2, $"ADDA left the target model's logits within {moved:E2} of the source model's (top-1 {targetBefore:P1} → {targetAfter:P1})");
            Assert.Equal(sourceBefore, sourceAfter);
            using var logitsAfter = TestEnv.Logits(source, classifier, sourceTest.Images);
            Assert.True(logitsBefore.Equals(logitsAfter));
        }
    }
}
