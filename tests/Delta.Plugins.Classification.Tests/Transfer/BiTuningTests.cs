using Delta.Abstractions.Training;
using TorchSharp;
using Delta.Abstractions.Backbones;
using Delta.Backbones.Registry;
using Delta.Plugins.Classification.Models;
using Delta.Plugins.Classification.Transfer;
using static TorchSharp.torch;

namespace Delta.Plugins.Classification.Tests.Transfer;

/// <summary>Bi-Tuning on tiny_resnet: the key encoder never gets gradients and follows the query by momentum; with Δ the shared base stays exact.</summary>
public sealed class BiTuningTests : IDisposable
{
    private readonly Synthetic env = new();
    public void Dispose() => env.Dispose();

    private static readonly BiTuningSettings Settings = new() { KeysPerClass = 4, ProjectionDim = 8, Momentum = 0.9 };

    private BackboneRequest Request(bool trainableBase) => new()
    {
        Architecture = "tiny_resnet", Weights = "random", Delta = trainableBase ? DeltaConfig.None : new DeltaConfig { Stages = 2 }, Seed = 1, TrainableBase = trainableBase,
    };

    private BiTuning Build(bool trainableBase)
    {
        // Under the default generator's lock, as TransferExperiment builds them: the heads' default init (drawn by
        // both encoders) must not interleave with another test class's draws, or the two builds compared below differ.
        using var seeded = DefaultGenerator.Seeded(3);
        BiTuningEncoder Encoder() => new(new ClassifierModel(env.Registry.Create(Request(trainableBase)), 3), Settings.ProjectionDim);
        return new BiTuning(Encoder(), Encoder(), 3, Settings, seed: 1);
    }

    private static (Tensor, Tensor, Tensor) Batch(int seed)
    {
        using var g = new Generator((ulong)seed);
        return (randn(new long[] { 6, 3, 16, 16 }, generator: g), randn(new long[] { 6, 3, 16, 16 }, generator: g), tensor(new long[] { 0, 1, 2, 0, 1, 2 }));
    }

    private static double Step(BiTuning bt, torch.optim.Optimizer optimizer, int seed)
    {
        using var scope = NewDisposeScope();
        var (q, k, y) = Batch(seed);
        optimizer.zero_grad();
        var losses = bt.Losses(q, k, y);
        var total = losses.Values.Aggregate((a, b) => a + b);
        total.backward();
        optimizer.step();
        return total.item<float>();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Key_encoder_gets_no_gradient_and_follows_the_query_by_momentum(bool trainableBase)
    {
        using var bt = Build(trainableBase);
        bt.SetTrainMode(true);
        Assert.Equal(bt.Query.TrainableParameters.Count, bt.FollowedParameters);
        Assert.Contains(bt.Query.OwnParameters(), p => p.Name.StartsWith("projector.", StringComparison.Ordinal));
        var optimizer = torch.optim.SGD(bt.Query.TrainableParameters, 0.1);
        Assert.True(double.IsFinite(Step(bt, optimizer, 1)));
        foreach (var (name, p) in bt.Key.OwnParameters())
        {
            Assert.False(p.requires_grad, name);
            Assert.True(p.grad is null, $"{name} has a gradient");
        }
        var query = bt.Query.OwnParameters().ToDictionary(p => p.Name, p => p.Parameter);
        Assert.NotNull(query["head.weight"].grad);
        Assert.NotNull(query["projector.weight"].grad);
        Assert.Contains(query, kv => kv.Key.StartsWith("backbone.", StringComparison.Ordinal) && kv.Value.grad is not null);

        // The next step's momentum update: k ← 0.9·k + 0.1·q, q being the query after the optimizer step.
        var key = bt.Key.OwnParameters().ToDictionary(p => p.Name, p => p.Parameter);
        using var keyBefore = key["projector.weight"].detach().clone();
        using var queryNow = query["projector.weight"].detach().clone();
        Assert.False(keyBefore.Equals(queryNow));                                // the optimizer moved the query away from the key
        Step(bt, optimizer, 2);
        using var expected = keyBefore * 0.9 + queryNow * 0.1;
        Assert.True(key["projector.weight"].allclose(expected, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Host_labels_give_the_same_losses_and_queues_as_reading_the_labels_back()
    {
        // The first Build creates the shared base, which draws from the global generator before the heads do; a
        // warm-up one makes both below start from the same generator state.
        using var warmUp = Build(trainableBase: false);
        using var fromDevice = Build(trainableBase: false);
        using var fromHost = Build(trainableBase: false);
        fromDevice.SetTrainMode(true); fromHost.SetTrainMode(true);
        for (int seed = 1; seed <= 2; seed++)                                   // the second step reads the first's queues
        {
            using var scope = NewDisposeScope();
            var (q, k, y) = Batch(seed);
            var expected = fromDevice.Losses(q, k, y);
            var actual = fromHost.Losses(q, k, y, y.data<long>().ToArray());
            foreach (var (name, loss) in expected) Assert.True(loss.Equals(actual[name]), $"step {seed}: {name}");
            Assert.True(fromDevice.QueueH.Keys.Equals(fromHost.QueueH.Keys) && fromDevice.QueueZ.Keys.Equals(fromHost.QueueZ.Keys), $"step {seed}: queues");
        }
        using var last = NewDisposeScope();
        var (q2, k2, y2) = Batch(3);
        Assert.Throws<ArgumentException>(() => fromHost.Losses(q2, k2, y2, [0, 1]));
    }

    [Fact]
    public void With_delta_the_shared_base_is_bit_identical_after_training()
    {
        var shared = env.Registry.GetBase(Request(false)).Model;
        var hashBefore = BaseWeightsHash.Compute(shared);
        var (probe, _, _) = Batch(7);
        using var bt = Build(trainableBase: false);
        var backbone = bt.Query.Classifier.Backbone;
        Tensor BaseOutput()
        {
            using var noGrad = no_grad();
            backbone.DeltaEnabled = false;
            try { return backbone.Forward(probe).Pooled.clone(); }
            finally { backbone.DeltaEnabled = true; }
        }
        bt.SetTrainMode(false);
        using var baseBefore = BaseOutput();
        using var deltaBefore = bt.Query.OwnParameters().First(p => p.Name.StartsWith("backbone.", StringComparison.Ordinal)).Parameter.detach().clone();
        bt.SetTrainMode(true);
        var optimizer = torch.optim.AdamW(bt.Query.TrainableParameters, 1e-2, weight_decay: 0.01);
        for (int i = 0; i < 3; i++) Step(bt, optimizer, 10 + i);
        bt.SetTrainMode(false);
        Assert.False(deltaBefore.Equals(bt.Query.OwnParameters().First(p => p.Name.StartsWith("backbone.", StringComparison.Ordinal)).Parameter));   // Δ did train
        Assert.Equal(hashBefore, BaseWeightsHash.Compute(shared));
        using var baseAfter = BaseOutput();
        Assert.True(baseAfter.Equals(baseBefore));
        Assert.DoesNotContain(bt.Query.TrainableParameters, p => shared.parameters().Any(b => b.Handle == p.Handle));
    }
}
