using Delta.Abstractions.Backbones;
using Delta.Plugins.DomainAdapt.Methods;
using Delta.Plugins.DomainAdapt.Models;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Tests.Methods;

/// <summary>ADDA's alternation (Tzeng et al. 2017): D steps move only the discriminator, M_t steps only the target
/// encoder's trainable parameters, and the source encoder never changes.</summary>
public sealed class AddaTrainerTests : IDisposable
{
    private readonly TestEnv env = new();
    public void Dispose() => env.Dispose();

    private static readonly MethodSettings Settings = new() { BatchSize = 8, SourceSteps = 3, AdaptSteps = 2 };

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void DiscriminatorAndEncoderStepsAlternate_SourceEncoderNeverChanges(int deltaStages)
    {
        using var sourceData = TestEnv.Domain("s", 4, 6, seed: 1);
        using var targetData = TestEnv.Domain("t", 4, 6, seed: 2, shift: 0.3f);
        using var targetImages = targetData.WithoutLabels();
        using var source = env.Encoder(deltaStages, seed: 3);
        using var target = source.CloneFor(env.Registry, TestEnv.Arch, "random", seed: 3);
        using var adda = new AddaTrainer(source, target, sourceData.Images, targetImages, uniformPrior: deltaStages > 0, Settings, seed: 4);

        var sourceState = TestEnv.StateHash(source.Backbone.Module);
        string D() => TestEnv.Hash(adda.Discriminator.parameters());
        string T() => TestEnv.Hash(target.Backbone.TrainableParameters);
        for (int step = 0; step < 3; step++)
        {
            var (d0, t0) = (D(), T());
            adda.DiscriminatorStep().Dispose();
            var (d1, t1) = (D(), T());
            Assert.NotEqual(d0, d1);                                            // D moved
            Assert.Equal(t0, t1);                                               // M_t did not
            adda.EncoderStep().Dispose();
            var (d2, t2) = (D(), T());
            Assert.Equal(d1, d2);                                               // D got gradients through M_t's loss but no step
            Assert.NotEqual(t1, t2);                                            // M_t moved
            Assert.Equal(sourceState, TestEnv.StateHash(source.Backbone.Module));
        }
    }

    [Fact]
    public void WithDelta_TargetSideTrainsOnlyDeltaModules_AndSourceLogitsStayBitIdentical()
    {
        var delta = new DeltaConfig { Stages = 4 };
        using var sourceData = TestEnv.Domain("s", 4, 8, seed: 1);
        using var targetData = TestEnv.Domain("t", 4, 8, seed: 2, shift: 0.3f);
        using var targetImages = targetData.WithoutLabels();
        using var source = env.Encoder(4, seed: 5);
        using var classifier = SourceClassifier.Seeded(source.NumFeatures, 4, 5, CPU);   // under the default generator's lock
        SourceTraining.Train(source, classifier, sourceData, uniformPrior: false, Settings, seed: 5);
        using var target = source.CloneFor(env.Registry, TestEnv.Arch, "random", seed: 5);

        // Only Δ parameters are trainable on the target side: exactly as many as the registry counts for Δ(4).
        Assert.Equal(env.Registry.CountParameters(TestEnv.Arch, delta).DeltaParameters, target.Backbone.TrainableParameterCount);
        using var sourceLogits = TestEnv.Logits(source, classifier, sourceData.Images);
        using var baseFeatures = BaseFeatures(target, sourceData.Images);
        var targetDelta = TestEnv.Hash(target.Backbone.DeltaState().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value));
        var sourceState = TestEnv.StateHash(source.Backbone.Module);

        using (var adda = new AddaTrainer(source, target, sourceData.Images, targetImages, uniformPrior: true, Settings with { AdaptSteps = 4 }, seed: 6))
            adda.Run();

        Assert.NotEqual(targetDelta, TestEnv.Hash(target.Backbone.DeltaState().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value)));
        Assert.Equal(sourceState, TestEnv.StateHash(source.Backbone.Module));
        using var sourceLogitsAfter = TestEnv.Logits(source, classifier, sourceData.Images);
        Assert.True(sourceLogits.Equals(sourceLogitsAfter));                   // the source task is exactly as it was
        using var baseAfter = BaseFeatures(target, sourceData.Images);
        Assert.True(baseFeatures.Equals(baseAfter));                           // the shared frozen base did not move
        using var fresh = env.Encoder(0);
        using var plain = BaseFeatures(fresh, sourceData.Images);
        Assert.True(baseAfter.Equals(plain));                                  // and equals a plain, never-patched base
    }

    /// <summary>Pooled features with every Δ-module bypassed: the base model alone.</summary>
    private static Tensor BaseFeatures(DomainEncoder encoder, Tensor images)
    {
        var was = encoder.Backbone.DeltaEnabled;
        encoder.Backbone.DeltaEnabled = false;
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            encoder.Backbone.Train(false);
            return encoder.Features(images).MoveToOuterDisposeScope();
        }
        finally { encoder.Backbone.DeltaEnabled = was; }
    }
}
