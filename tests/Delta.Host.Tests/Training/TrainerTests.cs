using System.Security.Cryptography;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Host.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Host.Tests.Training;

/// <summary>Runs alone: TwoHundredStepsLeaveNoLiveTensorsBehind counts live tensors process-wide, and test classes
/// running beside it (gradient clipping, device scalar logs) made and freed tensors inside its window.</summary>
[CollectionDefinition(nameof(ProcessWideTensorCount), DisableParallelization = true)]
public sealed class ProcessWideTensorCount;

[Collection(nameof(ProcessWideTensorCount))]
public sealed class TrainerTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("delta-trainer-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    private sealed class Batch(Tensor x, Tensor y) : IDisposable
    {
        public Tensor X { get; } = x;
        public Tensor Y { get; } = y;
        public bool Disposed { get; private set; }
        public void Dispose() { X.Dispose(); Y.Dispose(); Disposed = true; }
    }

    /// <summary>y = 3·x0 − 2·x1 + 1, 8 batches of 16 per epoch, the same stream for a given epoch.</summary>
    private static IEnumerable<Batch> Regression(int epoch)
    {
        var gen = new Generator((ulong)(1000 + epoch));
        for (int b = 0; b < 8; b++) yield return Next(gen);
    }

    /// <summary>One batch, its temporaries freed here (the scope cannot stay open across a yield).</summary>
    private static Batch Next(Generator gen)
    {
        using var scope = NewDisposeScope();
        var x = randn(16, 2, generator: gen);
        var y = (x[.., 0] * 3 - x[.., 1] * 2 + 1).unsqueeze(1);
        return new Batch(x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }

    private sealed class Task : ICheckpointable
    {
        public readonly Linear Head;
        public readonly Linear Frozen;
        private readonly bool dropout;
        /// <summary>When set, the dropout masks come from this generator instead of the global one.</summary>
        public Generator? Masks { get; init; }
        /// <param name="dropout">Drop half the features in training, from libtorch's global generator (what DeepLab-V3's
        /// heads do): the run then depends on the generator's state, which the checkpoint must carry.</param>
        public Task(long seed, long? headSeed = null, bool dropout = false)
        {
            this.dropout = dropout;
            manual_seed(seed);
            Frozen = nn.Linear(2, 2);
            if (headSeed is { } h) manual_seed(h);
            Head = nn.Linear(2, 1);
            foreach (var p in Frozen.parameters()) p.requires_grad = false;
        }
        public IReadOnlyDictionary<string, Tensor> Losses(Batch b) =>
            new Dictionary<string, Tensor> { ["mse"] = nn.functional.mse_loss(Head.call(Features(b.X)), b.Y) };
        private Tensor Features(Tensor x)
        {
            var f = Frozen.call(x) + x;
            if (!dropout || !Head.training) return f;
            return Masks is null ? nn.functional.dropout(f, 0.5, training: true) : f * empty_like(f).bernoulli_(0.5, Masks).mul_(2);
        }
        public IReadOnlyDictionary<string, Tensor> CheckpointState() => Head.state_dict();
        public void LoadCheckpointState(IReadOnlyDictionary<string, Tensor> state) => Head.load_state_dict(state.ToDictionary(), strict: true);
    }

    private static TrainLoop<Batch> Loop(Task task, TrainingHyperParameters hyper, Func<int, IEnumerable<Batch>>? batches = null, string? checkpoints = null,
        bool resume = false, IList<ITrainHook>? hooks = null, Func<IReadOnlyDictionary<string, double>>? validate = null, string? monitor = null,
        IReadOnlyList<Generator>? generators = null, IProgress<TrainProgress>? progress = null) => new()
    {
        Parameters = task.Head.parameters().ToList(),
        Losses = task.Losses,
        Batches = batches ?? Regression,
        Hyper = hyper,
        StepsPerEpoch = 8,
        SetTrainMode = m => task.Head.train(m),
        CheckpointDir = checkpoints,
        Generators = generators ?? [],
        Resume = resume,
        State = task,
        Hooks = hooks ?? [],
        Validate = validate,
        Monitor = monitor,
        Progress = progress,
    };

    private static string Hash(nn.Module m)
    {
        using var sha = SHA256.Create();
        foreach (var (k, t) in m.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var kb = System.Text.Encoding.UTF8.GetBytes(k);
            sha.TransformBlock(kb, 0, kb.Length, null, 0);
            var bytes = t.detach().cpu().contiguous().bytes.ToArray();
            sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
        }
        sha.TransformFinalBlock([], 0, 0);
        return Convert.ToHexString(sha.Hash!);
    }

    private static double Loss(Task task)
    {
        using var scope = NewDisposeScope();
        using var ng = no_grad();
        return Regression(99).Select(b => { using (b) return task.Losses(b)["mse"].item<float>(); }).Average();
    }

    /// <summary>A service with several devices runs jobs concurrently through one Trainer: each Fit's epoch means must
    /// be its own (they were summed in a Trainer field, so two Fits added into, and reset, one accumulator).</summary>
    [Fact]
    public async System.Threading.Tasks.Task ConcurrentFitsOnOneTrainerKeepTheirOwnEpochLosses()
    {
        var trainer = new Trainer();
        TrainOutcome Run(double constant)
        {
            var task = new Task(1);
            var loop = new TrainLoop<Batch>
            {
                Parameters = task.Head.parameters().ToList(),
                // A known loss (the weight term has value 0 but keeps the graph), and a pause so the two Fits interleave.
                Losses = b => { Thread.Sleep(2); return new Dictionary<string, Tensor> { ["mse"] = task.Head.weight!.sum() * 0 + constant }; },
                Batches = Regression, Hyper = new TrainingHyperParameters { Epochs = 3, LearningRate = 0.1 }, StepsPerEpoch = 8,
                SetTrainMode = m => task.Head.train(m),
            };
            return trainer.Fit(loop, CancellationToken.None);
        }
        var runs = await System.Threading.Tasks.Task.WhenAll(
            System.Threading.Tasks.Task.Factory.StartNew(() => Run(1.0), TaskCreationOptions.LongRunning),
            System.Threading.Tasks.Task.Factory.StartNew(() => Run(2.0), TaskCreationOptions.LongRunning));
        Assert.All(runs[0].History, e => Assert.Equal(1.0, e.MeanLosses["mse"]));
        Assert.All(runs[1].History, e => Assert.Equal(2.0, e.MeanLosses["mse"]));
    }

    private sealed class Reports : IProgress<TrainProgress>
    {
        public List<TrainProgress> All { get; } = [];
        public void Report(TrainProgress value) => All.Add(value);
    }

    /// <summary>An epoch's end reports its last step twice (the step's losses, then the epoch's means): the epoch's means
    /// are named apart ("epoch_mse" beside "mse"), so a chart of a step loss does not jump to the epoch mean there.</summary>
    [Fact]
    public void EpochMeansAreReportedUnderTheirOwnNamesAtTheEpochsLastStep()
    {
        var task = new Task(1);
        var reports = new Reports();
        new Trainer().Fit(Loop(task, new TrainingHyperParameters { Epochs = 2 }, validate: () => new Dictionary<string, double> { ["score"] = 1 }, progress: reports),
            CancellationToken.None);
        var epochEnds = reports.All.Where(r => r.Message is not null).ToList();
        Assert.Equal([8L, 16L], epochEnds.Select(r => r.Step));
        Assert.All(epochEnds, r => Assert.Equal(["epoch_loss", "epoch_mse", "val_score"], r.Metrics.Keys.Order()));
        var steps = reports.All.Where(r => r.Message is null).ToList();
        Assert.Equal(16, steps.Count);
        Assert.All(steps, r => Assert.Equal(["loss", "lr", "mse"], r.Metrics.Keys.Order()));
        Assert.Equal(8L, steps[7].Step);
    }

    [Fact]
    public void LossFallsAndOnlyTheLoopsParametersChange()
    {
        var task = new Task(1);
        var frozenBefore = Hash(task.Frozen);
        var before = Loss(task);
        var outcome = new Trainer().Fit(Loop(task, new TrainingHyperParameters { Epochs = 20, LearningRate = 0.1, WeightDecay = 0.01 }), CancellationToken.None);
        Assert.Equal(160, outcome.Steps);
        Assert.Equal(20, outcome.History.Count);
        Assert.True(Loss(task) < before * 0.05, $"loss {before} -> {Loss(task)}");
        Assert.Equal(frozenBefore, Hash(task.Frozen));
        Assert.True(outcome.History[^1].MeanLosses["mse"] < outcome.History[0].MeanLosses["mse"]);
    }

    [Fact]
    public void FrozenParametersInTheLoopAreRefused()
    {
        var task = new Task(1);
        var loop = Loop(task, new TrainingHyperParameters()) ;
        var bad = new TrainLoop<Batch> { Parameters = task.Frozen.parameters().ToList(), Losses = loop.Losses, Batches = loop.Batches, Hyper = loop.Hyper, SetTrainMode = loop.SetTrainMode };
        Assert.Throws<ArgumentException>(() => new Trainer().Fit(bad, CancellationToken.None));
    }

    [Fact]
    public void NonFiniteLossStopsTrainingWithTheStep()
    {
        var task = new Task(1);
        IEnumerable<Batch> Poisoned(int epoch)
        {
            int i = 0;
            foreach (var b in Regression(epoch))
            {
                if (++i == 3) b.X[0, 0] = tensor(float.NaN);
                yield return b;
            }
        }
        var e = Assert.Throws<NonFiniteLossException>(() => new Trainer().Fit(Loop(task, new TrainingHyperParameters(), Poisoned), CancellationToken.None));
        Assert.Equal(3, e.Step);
        Assert.True(double.IsNaN(e.Losses["mse"]));
    }

    [Fact]
    public void EveryBatchIsDisposed()
    {
        var task = new Task(1);
        var seen = new List<Batch>();
        IEnumerable<Batch> Tracked(int epoch) { foreach (var b in Regression(epoch)) { seen.Add(b); yield return b; } }
        new Trainer().Fit(Loop(task, new TrainingHyperParameters { Epochs = 2 }, Tracked), CancellationToken.None);
        Assert.Equal(16, seen.Count);
        Assert.All(seen, b => Assert.True(b.Disposed));
    }

    [Fact]
    public void EarlyStoppingEndsAfterPatienceEpochsWithoutImprovement()
    {
        var task = new Task(1);
        var scores = new Queue<double>([0.5, 0.7, 0.6, 0.65, 0.69, 0.9]);
        var outcome = new Trainer().Fit(Loop(task, new TrainingHyperParameters { Epochs = 6, EarlyStoppingPatience = 3 },
            validate: () => new Dictionary<string, double> { ["acc"] = scores.Dequeue() }, monitor: "acc"), CancellationToken.None);
        Assert.Equal(5, outcome.History.Count);          // best 0.7 at epoch 2, then 3 epochs without improvement
        Assert.True(outcome.StoppedEarly);
        Assert.Contains("early stopping", outcome.StopReason);
    }

    [Fact]
    public void MaxStepsEndsMidEpoch()
    {
        var task = new Task(1);
        var outcome = new Trainer().Fit(Loop(task, new TrainingHyperParameters { Epochs = 5, MaxSteps = 11 }), CancellationToken.None);
        Assert.Equal(11, outcome.Steps);
        Assert.False(outcome.StoppedEarly);
    }

    [Theory]
    [InlineData("constant", 0, 0.1)]
    [InlineData("constant", 99, 0.1)]
    [InlineData("cosine", 0, 0.1)]
    [InlineData("cosine", 50, 0.05)]          // 0.1·½(1+cos(π/2))
    [InlineData("cosine", 100, 0.0)]
    [InlineData("poly", 50, 0.0535886731268146)] // 0.1·0.5^0.9
    [InlineData("step", 66, 0.1)]
    [InlineData("step", 67, 0.01)]
    public void ScheduleMatchesHandComputedValues(string schedule, long step, double expected)
    {
        var s = new LearningRateSchedule(new TrainingHyperParameters { LearningRate = 0.1, Schedule = schedule }, 100);
        Assert.Equal(expected, s.At(step), 12);
    }

    [Fact]
    public void WarmupRisesLinearlyThenHandsOverToTheSchedule()
    {
        var s = new LearningRateSchedule(new TrainingHyperParameters { LearningRate = 0.1, Schedule = "cosine", WarmupSteps = 10 }, 110);
        Assert.Equal(0.01, s.At(0), 12);
        Assert.Equal(0.05, s.At(4), 12);
        Assert.Equal(0.1, s.At(10), 12);
        Assert.Equal(0.05, s.At(60), 12);
    }

    private sealed class CancelAt(long step, CancellationTokenSource cts) : ITrainHook
    {
        public void OnStep(StepReport report, TrainState state) { if (report.Step == step) cts.Cancel(); }
    }

    /// <summary>A run that stopped (maxSteps, early stopping) and is resumed from its last checkpoint — a requeued job
    /// whose host died after training but before the patch was saved — trains no further step.</summary>
    [Fact]
    public void AResumedRunThatHadAlreadyStoppedTrainsNoFurtherStep()
    {
        var ckpt = Path.Combine(dir, "stopped");
        var task = new Task(3);
        var byMaxSteps = new TrainingHyperParameters { Epochs = 4, MaxSteps = 8 };                 // stops at the end of epoch 1
        Assert.Equal(8, new Trainer().Fit(Loop(task, byMaxSteps, checkpoints: ckpt), CancellationToken.None).Steps);
        var after = Hash(task.Head);
        var resumed = new Trainer().Fit(Loop(task, byMaxSteps, checkpoints: ckpt, resume: true), CancellationToken.None);
        Assert.True(resumed.Resumed);
        Assert.Equal(8, resumed.Steps);
        Assert.Equal(after, Hash(task.Head));

        var ckpt2 = Path.Combine(dir, "early");
        var patient = new TrainingHyperParameters { Epochs = 6, EarlyStoppingPatience = 1 };
        var flat = () => (IReadOnlyDictionary<string, double>)new Dictionary<string, double> { ["score"] = 1 };   // never improves
        var stopped = new Trainer().Fit(Loop(task, patient, checkpoints: ckpt2, validate: flat, monitor: "score"), CancellationToken.None);
        Assert.True(stopped.StoppedEarly);
        Assert.Equal(16, stopped.Steps);                                                          // 2 epochs: best, then no gain
        after = Hash(task.Head);
        var again = new Trainer().Fit(Loop(task, patient, checkpoints: ckpt2, resume: true, validate: flat, monitor: "score"), CancellationToken.None);
        Assert.Equal(16, again.Steps);
        Assert.True(again.StoppedEarly);
        Assert.Equal(after, Hash(task.Head));

        // maxSteps reached mid-epoch, checkpointed there, and the process died in that epoch's validation: the resume
        // takes no step but still ends the epoch (validation, report) as the uninterrupted run would have.
        var ckpt3 = Path.Combine(dir, "mid-epoch");
        var midEpoch = new TrainingHyperParameters { Epochs = 4, MaxSteps = 12, CheckpointEvery = 12 };      // epoch 2, its 4th step
        var validations = 0;
        IReadOnlyDictionary<string, double> DiesInTheSecondValidation() =>
            ++validations == 2 ? throw new IOException("host died") : new Dictionary<string, double> { ["score"] = validations };
        Assert.Throws<IOException>(() => new Trainer().Fit(Loop(task, midEpoch, checkpoints: ckpt3, validate: DiesInTheSecondValidation), CancellationToken.None));
        after = Hash(task.Head);
        var ended = new Trainer().Fit(Loop(task, midEpoch, checkpoints: ckpt3, resume: true, validate: DiesInTheSecondValidation), CancellationToken.None);
        Assert.Equal(12, ended.Steps);
        Assert.Equal(after, Hash(task.Head));
        var report = Assert.Single(ended.History);                                                 // epoch 2's end, validated
        Assert.Equal((1, 3.0), (report.Epoch, report.Validation["score"]));
    }

    [Fact]
    public void ResumeAfterCancellationEqualsAnUninterruptedRunExactly()
    {
        var hyper = new TrainingHyperParameters { Epochs = 3, LearningRate = 0.05, WeightDecay = 0.01, Schedule = "cosine" };
        var reference = new Task(7);
        new Trainer().Fit(Loop(reference, hyper), CancellationToken.None);

        var ckpt = Path.Combine(dir, "ckpt");
        var first = new Task(7);
        using (var cts = new CancellationTokenSource())
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new Trainer().Fit(Loop(first, hyper, checkpoints: ckpt, hooks: [new CancelAt(13, cts)]), cts.Token));
        Assert.True(File.Exists(Path.Combine(ckpt, Checkpoint.FileName)));

        var resumed = new Task(7, headSeed: 123);         // same frozen part, other head init: the head must come from the checkpoint
        var outcome = new Trainer().Fit(Loop(resumed, hyper, checkpoints: ckpt, resume: true), CancellationToken.None);
        Assert.True(outcome.Resumed);
        Assert.Equal(24, outcome.Steps);
        Assert.Equal(Hash(reference.Head), Hash(resumed.Head));
    }

    /// <summary>The checkpoint carries the global generator's state: a resumed run draws the dropout masks the
    /// uninterrupted one drew at the same steps, whatever the new process's generator held.</summary>
    [Fact]
    public void ResumeContinuesTheGlobalRandomStreamOfTheInterruptedRun()
    {
        var hyper = new TrainingHyperParameters { Epochs = 3, LearningRate = 0.05 };
        var reference = new Task(7, dropout: true);
        new Trainer().Fit(Loop(reference, hyper), CancellationToken.None);

        var ckpt = Path.Combine(dir, "ckpt-dropout");
        var first = new Task(7, dropout: true);
        using (var cts = new CancellationTokenSource())
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new Trainer().Fit(Loop(first, hyper, checkpoints: ckpt, hooks: [new CancelAt(13, cts)]), cts.Token));

        var resumed = new Task(7, dropout: true);
        manual_seed(99); rand(1000).Dispose();          // a new process: the generator is somewhere else entirely
        var outcome = new Trainer().Fit(Loop(resumed, hyper, checkpoints: ckpt, resume: true), CancellationToken.None);
        Assert.True(outcome.Resumed);
        Assert.Equal(Hash(reference.Head), Hash(resumed.Head));

        // The masks matter: without them the same steps end elsewhere.
        var noDropout = new Task(7);
        new Trainer().Fit(Loop(noDropout, hyper), CancellationToken.None);
        Assert.NotEqual(Hash(reference.Head), Hash(noDropout.Head));
    }

    /// <summary>A loop's own generators (what DeepLab-V3's dropout draws from, on any device) travel in the checkpoint:
    /// the resumed run starts from a generator seeded otherwise and still ends where the uninterrupted run ended.</summary>
    [Fact]
    public void ResumeContinuesTheLoopsOwnGenerators()
    {
        var hyper = new TrainingHyperParameters { Epochs = 3, LearningRate = 0.05 };
        using var referenceMasks = new Generator(5);
        var reference = new Task(7, dropout: true) { Masks = referenceMasks };
        new Trainer().Fit(Loop(reference, hyper, generators: [referenceMasks]), CancellationToken.None);

        var ckpt = Path.Combine(dir, "ckpt-generators");
        using var firstMasks = new Generator(5);
        var first = new Task(7, dropout: true) { Masks = firstMasks };
        using (var cts = new CancellationTokenSource())
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new Trainer().Fit(Loop(first, hyper, checkpoints: ckpt, hooks: [new CancelAt(13, cts)], generators: [firstMasks]), cts.Token));

        using var resumedMasks = new Generator(6);                  // another stream: only the checkpoint can put it back
        var resumed = new Task(7, dropout: true) { Masks = resumedMasks };
        var outcome = new Trainer().Fit(Loop(resumed, hyper, checkpoints: ckpt, resume: true, generators: [resumedMasks]), CancellationToken.None);
        Assert.True(outcome.Resumed);
        Assert.Equal(Hash(reference.Head), Hash(resumed.Head));

        // A checkpoint whose generator count differs from the job's is refused, naming the file.
        using var extra = new Generator(1);
        var e = Assert.Throws<InvalidDataException>(() => new Trainer().Fit(
            Loop(new Task(7, dropout: true) { Masks = extra }, hyper, checkpoints: ckpt, resume: true, generators: [extra, extra]), CancellationToken.None));
        Assert.Contains(Checkpoint.FileName, e.Message);
        Assert.Contains("1 task generator(s), the job draws from 2", e.Message);
    }

    /// <summary>A checkpoint written before loops declared generators (none saved) still resumes; the generators then
    /// start from their seeds, as every resume did before.</summary>
    [Fact]
    public void ACheckpointWithoutGeneratorStatesStillResumes()
    {
        var hyper = new TrainingHyperParameters { Epochs = 2, LearningRate = 0.05 };
        var ckpt = Path.Combine(dir, "ckpt-no-generators");
        using (var cts = new CancellationTokenSource())
            Assert.ThrowsAny<OperationCanceledException>(() =>
                new Trainer().Fit(Loop(new Task(7), hyper, checkpoints: ckpt, hooks: [new CancelAt(5, cts)]), cts.Token));
        using var masks = new Generator(5);
        var before = masks.get_state();
        var outcome = new Trainer().Fit(Loop(new Task(7), hyper, checkpoints: ckpt, resume: true, generators: [masks]), CancellationToken.None);
        Assert.True(outcome.Resumed);
        Assert.Equal(16, outcome.Steps);
        Assert.True(before.Equals(masks.get_state()));                // untouched: nothing to restore, and this task draws none
    }

    [Fact]
    public void ACorruptCheckpointIsReportedWithItsPath()
    {
        var ckpt = Path.Combine(dir, "bad");
        Directory.CreateDirectory(ckpt);
        File.WriteAllBytes(Path.Combine(ckpt, Checkpoint.FileName), [1, 2, 3]);
        var e = Assert.Throws<InvalidDataException>(() => new Trainer().Fit(Loop(new Task(1), new TrainingHyperParameters(), checkpoints: ckpt, resume: true), CancellationToken.None));
        Assert.Contains(Checkpoint.FileName, e.Message);
    }

    [Fact]
    public void TwoHundredStepsLeaveNoLiveTensorsBehind()
    {
        var task = new Task(1);
        var hyper = new TrainingHyperParameters { Epochs = 25 };
        new Trainer().Fit(Loop(task, hyper), CancellationToken.None);     // warm-up: optimizer state exists now
        // Counted by TorchSharp per thread (the trainer runs on this one), created minus disposed here: a tensor nobody
        // disposes stays counted even after the GC finalizes it, which Tensor.TotalCount after a GC would not show.
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        new Trainer().Fit(Loop(task, hyper), CancellationToken.None);     // 200 steps
        // A fresh optimizer holds 2 moment tensors per parameter (4 here); allow that, nothing that grows with steps.
        Assert.InRange(DisposeScopeManager.Statistics.ThreadTotalLiveCount - before, -50, 10);
    }
}
