using Delta.Abstractions.Training;
using Delta.Backbones.Autograd;
using Delta.Plugins.DomainAdapt.Data;
using Delta.Plugins.DomainAdapt.Losses;
using Delta.Plugins.DomainAdapt.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Plugins.DomainAdapt.Methods;

/// <summary>
/// ADDA's adversarial stage (Tzeng et al. 2017, eq. 8–9), alternating two updates per step:
/// <list type="number">
/// <item>discriminator D: BCE(D(M_s(x_s)), 1) + BCE(D(M_t(x_t)), 0), both encoders under no_grad;</item>
/// <item>target encoder M_t: BCE(D(M_t(x_t)), 1) — the inverted label — (+ w·L_unif(M_t(x_t)) for ADDA + uniform prior).</item>
/// </list>
/// The source encoder is in eval mode, under no_grad and in no optimizer: it never changes. The target
/// images come as <see cref="UnlabelledImages"/>, so no target label can enter. With Δ, M_t's trainable
/// parameters are its Δ-modules only; the result is a target-domain patch over the untouched base.
/// </summary>
public sealed class AddaTrainer : IDisposable
{
    private readonly DomainEncoder source;
    private readonly DomainEncoder target;
    private readonly Tensor sourceImages;
    private readonly UnlabelledImages targetImages;
    private readonly bool uniformPrior;
    private readonly MethodSettings s;
    private readonly optim.Optimizer discriminatorOptimizer;
    private readonly optim.Optimizer encoderOptimizer;
    private readonly BatchSampler sourceBatches;
    private readonly BatchSampler targetBatches;

    public AddaTrainer(DomainEncoder source, DomainEncoder target, Tensor sourceImages, UnlabelledImages targetImages,
        bool uniformPrior, MethodSettings s, int seed)
    {
        if (source.NumFeatures != target.NumFeatures) throw new ArgumentException($"Source encoder has {source.NumFeatures} features, target {target.NumFeatures}.");
        this.source = source; this.target = target; this.sourceImages = sourceImages; this.targetImages = targetImages;
        this.uniformPrior = uniformPrior; this.s = s;
        using (DefaultGenerator.Seeded(seed))                                // its init draws from the default generator
            Discriminator = new DomainDiscriminator(source.NumFeatures);
        Discriminator.to(source.Backbone.Device);
        discriminatorOptimizer = optim.Adam(Discriminator.parameters(), s.AdaptLearningRate, beta1: 0.5);
        encoderOptimizer = optim.Adam(target.Backbone.TrainableParameters, s.AdaptEncoderRate(target.UsesDelta), beta1: 0.5);
        sourceBatches = new BatchSampler((int)sourceImages.shape[0], s.BatchSize, seed);
        targetBatches = new BatchSampler(targetImages.Count, s.BatchSize, seed + 1);
    }

    public DomainDiscriminator Discriminator { get; }

    /// <summary>Runs <see cref="MethodSettings.AdaptSteps"/> alternations; returns (D loss, M_t loss) per step. The
    /// losses stay on the device until the end (one transfer), so a divergence is reported after the last step.</summary>
    public IReadOnlyList<(double Discriminator, double Encoder)> Run()
    {
        using var losses = new DeviceScalarLog();
        for (int step = 0; step < s.AdaptSteps; step++)
        {
            losses.Add(DiscriminatorStep());
            losses.Add(EncoderStep());
        }
        target.Backbone.Train(false);
        var v = losses.ReadAll();
        var log = new List<(double, double)>(s.AdaptSteps);
        for (int step = 0; step < s.AdaptSteps; step++)
        {
            double d = v[2 * step], e = v[2 * step + 1];
            if (!double.IsFinite(d) || !double.IsFinite(e)) throw new InvalidOperationException($"Non-finite ADDA loss at step {step} (D {d}, M_t {e}).");
            log.Add((d, e));
        }
        return log;
    }

    /// <summary>One discriminator update; returns its loss as a detached scalar on the device (the caller disposes).</summary>
    public Tensor DiscriminatorStep()
    {
        using var scope = NewDisposeScope();
        var device = source.Backbone.Device;
        Tensor fs, ft;
        source.Backbone.Train(false);
        // M_t stays in train mode so D sees the same (batch-statistics) features M_t's own step produces; its trainable
        // BatchNorm running statistics (full copy, or the Δ-modules') follow these forwards too, its parameters do not.
        target.Backbone.Train(true);
        using (no_grad())
        {
            fs = source.Features(Batch(sourceImages, sourceBatches, device));
            ft = target.Features(Batch(targetImages.Images, targetBatches, device));
        }
        Discriminator.train();
        discriminatorOptimizer.zero_grad();
        var ls = Discriminator.call(fs);
        var lt = Discriminator.call(ft);
        var loss = nn.functional.binary_cross_entropy_with_logits(ls, ones_like(ls))
                 + nn.functional.binary_cross_entropy_with_logits(lt, zeros_like(lt));
        loss.backward();
        discriminatorOptimizer.step();
        return loss.detach().MoveToOuterDisposeScope();
    }

    /// <summary>One target-encoder update; returns its loss as a detached scalar on the device (the caller disposes).</summary>
    public Tensor EncoderStep()
    {
        using var scope = NewDisposeScope();
        var device = target.Backbone.Device;
        target.Backbone.Train(true);
        encoderOptimizer.zero_grad();
        using var singleBackward = FrozenLayerBackward.SingleBackward();   // one backward per forward
        var ft = target.Features(Batch(targetImages.Images, targetBatches, device));
        var logits = Discriminator.call(ft);
        var loss = nn.functional.binary_cross_entropy_with_logits(logits, ones_like(logits));   // inverted label
        if (uniformPrior) loss = loss + s.UniformWeight * UniformityLoss.Compute(ft, s.UniformTemperature);
        loss.backward();
        encoderOptimizer.step();
        // D received gradients through this loss; they are discarded (zero_grad) before D's own step.
        return loss.detach().MoveToOuterDisposeScope();
    }

    private static Tensor Batch(Tensor images, BatchSampler sampler, Device device)
    {
        var idx = sampler.Next(images.device);
        return images.index_select(0, idx).to(device);
    }

    public void Dispose()
    {
        discriminatorOptimizer.Dispose();
        encoderOptimizer.Dispose();
        Discriminator.Dispose();
    }
}
