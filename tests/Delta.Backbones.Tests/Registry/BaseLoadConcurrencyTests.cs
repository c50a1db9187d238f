using System.Diagnostics;
using Delta.Abstractions.Backbones;
using Delta.Abstractions.Training;
using Delta.Backbones.Registry;
using TorchSharp;
using static TorchSharp.torch;

namespace Delta.Backbones.Tests.Registry;

/// <summary>A base load in flight on one thread while other threads request the same base or seed the default generator.
/// The interleavings are made by a weights source that blocks in its load until the test opens it; every wait has a
/// timeout, so a deadlock fails the test instead of hanging it. Runs alone: it seeds the default generator.</summary>
[Collection(nameof(ProcessWideTensorCount))]
public sealed class BaseLoadConcurrencyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly BackboneRequest Gated = new() { Architecture = "tiny_resnet", Weights = GatedWeights.Name, Delta = new DeltaConfig { Stages = 1 } };

    /// <summary>"gated": the "random" weights, loaded once <see cref="Open"/> is set; counts its loads, keeps the models it
    /// was handed, and fails its first <see cref="Failures"/> loads.</summary>
    private sealed class GatedWeights : IBaseWeightsSource
    {
        public const string Name = "gated";
        private int loads;
        public int Loads => Volatile.Read(ref loads);
        public int Failures { get; init; }
        public ManualResetEventSlim Entered { get; } = new();
        public ManualResetEventSlim Open { get; } = new();
        public List<nn.Module> Models { get; } = [];

        public bool CanLoad(string weights, BackboneInfo arch) => weights == Name;

        public IInputPreprocessing Load(nn.Module baseModel, string weights, BackboneInfo arch)
        {
            var load = Interlocked.Increment(ref loads);
            lock (Models) Models.Add(baseModel);
            Entered.Set();
            if (!Open.Wait(Timeout)) throw new TimeoutException("The test never opened the gated weights.");
            if (load <= Failures) throw new IOException($"gated load {load} fails");
            return new RandomInitWeights().Load(baseModel, RandomInitWeights.Name, arch);
        }
    }

    /// <summary><paramref name="work"/> on a thread of its own (background: a deadlocked one does not keep the run alive).</summary>
    private static (Thread Thread, Task<T> Result) Start<T>(Func<T> work)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { result.SetResult(work()); }
            catch (Exception e) { result.SetException(e); }
        }) { IsBackground = true };
        thread.Start();
        return (thread, result.Task);
    }

    /// <summary>Until <paramref name="count"/> requests wait for the load in flight (not merely blocked somewhere).</summary>
    private static void WaitForLoadWaiters(BackboneRegistry registry, int count)
    {
        var watch = Stopwatch.StartNew();
        while (registry.LoadWaiters < count)
        {
            Assert.True(watch.Elapsed < Timeout, $"{registry.LoadWaiters} of {count} requests came to wait for the load");
            Thread.Sleep(5);
        }
    }

    private static T Finished<T>(Task<T> task, string what)
    {
        Assert.True(task.Wait(Timeout), $"{what} did not finish: deadlock?");
        return task.Result;
    }

    [Fact]
    public void ConcurrentRequestsForOneBaseWaitForTheOneLoad()
    {
        var gated = new GatedWeights();
        using var registry = new BackboneRegistry([gated]);
        var loader = Start(() => registry.AcquireBase(Gated));
        Assert.True(gated.Entered.Wait(Timeout));
        var waiters = Enumerable.Range(0, 3).Select(_ => Start(() => registry.AcquireBase(Gated))).ToList();
        WaitForLoadWaiters(registry, 3);
        Assert.All(waiters, w => Assert.False(w.Result.IsCompleted));

        gated.Open.Set();
        using var first = Finished(loader.Result, "the load");
        var leases = waiters.Select(w => Finished(w.Result, "a waiter")).ToList();
        try
        {
            Assert.Equal(1, gated.Loads);
            Assert.All(leases, l => Assert.Same(first.Base, l.Base));
            Assert.Equal(1, registry.SharedBaseCount);
        }
        finally { foreach (var l in leases) l.Dispose(); }
    }

    [Fact]
    public void AFailedLoadFailsItsWaitersFreesItsModelAndTheNextRequestLoadsAgain()
    {
        var gated = new GatedWeights { Failures = 1 };
        using var registry = new BackboneRegistry([gated]);
        var loader = Start(() => registry.AcquireBase(Gated));
        Assert.True(gated.Entered.Wait(Timeout));
        var waiter = Start(() => registry.AcquireBase(Gated));
        WaitForLoadWaiters(registry, 1);
        var halfBuilt = gated.Models.Single().parameters().First();

        gated.Open.Set();
        Assert.Contains("gated load 1 fails", Assert.Throws<AggregateException>(() => loader.Result.Wait(Timeout)).InnerException!.Message);
        Assert.Contains("gated load 1 fails", Assert.Throws<AggregateException>(() => waiter.Result.Wait(Timeout)).InnerException!.Message);
        Assert.True(halfBuilt.IsInvalid);
        Assert.Equal(0, registry.SharedBaseCount);

        using var retried = registry.AcquireBase(Gated);
        Assert.Equal(2, gated.Loads);
        Assert.Equal(1, registry.SharedBaseCount);
    }

    /// <summary>The deadlock a lock-free load risks: a plugin builds under DefaultGenerator.Seeded and asks for a base
    /// whose load is in flight on another thread. That load must finish without the generator's lock.</summary>
    [Fact]
    public void ACallerHoldingTheSeededGeneratorWaitsForALoadInFlightAndBothFinish()
    {
        var gated = new GatedWeights();
        using var registry = new BackboneRegistry([gated]);
        var loader = Start(() => registry.AcquireBase(Gated));
        Assert.True(gated.Entered.Wait(Timeout));                           // built; now in its weights step
        using var seededTaken = new ManualResetEventSlim();
        var plugin = Start(() =>
        {
            using (DefaultGenerator.Seeded(1))
            {
                seededTaken.Set();
                return registry.CreateDelta(Gated);
            }
        });
        Assert.True(seededTaken.Wait(Timeout), "the load held the default generator's lock while reading its weights");
        WaitForLoadWaiters(registry, 1);
        Assert.False(plugin.Result.IsCompleted);

        gated.Open.Set();
        using var lease = Finished(loader.Result, "the load");
        using var backbone = Finished(plugin.Result, "the seeded request");
        Assert.Same(lease.Model, backbone.BaseModel);
        Assert.Equal(1, gated.Loads);
    }

    /// <summary>The point of loading outside the locks: while one base's weights are read, other jobs seed and read the
    /// default generator, and get the bases already loaded.</summary>
    [Fact]
    public void OtherJobsSeedAndGetLoadedBasesWhileALoadReadsItsWeights()
    {
        var gated = new GatedWeights();
        using var registry = new BackboneRegistry([gated, new RandomInitWeights()]);
        var random = Gated with { Weights = RandomInitWeights.Name };
        using (registry.AcquireBase(random)) { }
        var loader = Start(() => registry.AcquireBase(Gated));
        Assert.True(gated.Entered.Wait(Timeout));

        var otherJob = Start(() =>
        {
            using (DefaultGenerator.Seeded(5)) { using var drawn = rand(3); }
            return registry.AcquireBase(random);
        });
        using (var other = Finished(otherJob.Result, "another job's seeding and its cached base"))
            Assert.False(loader.Result.IsCompleted);

        gated.Open.Set();
        using var lease = Finished(loader.Result, "the load");
        Assert.Equal(2, registry.SharedBaseCount);
    }
}
