using System.Diagnostics;
using Delta.Abstractions.Plugins;
using Delta.Abstractions.Training;
using Delta.Backbones.Autograd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Host.Training;

/// <summary>
/// The task-agnostic training loop (see <see cref="ITrainer"/>). Per step, in its own dispose scope:
/// learning rate from the schedule, zero grads, named losses from the task, their sum, finiteness check,
/// backward, optional clipping, optimizer step over the trainable parameters only. Progress, logging,
/// early stopping and checkpointing sit around it as hooks.
/// <para>Host synchronisation: the loss values are read back once per step on the CPU (free there) and
/// once every <see cref="DeviceSyncInterval"/> steps on an accelerator, where the per-step losses are
/// accumulated on the device in between; a non-finite loss is therefore caught at the latest at that
/// boundary, and always before a checkpoint is written.</para>
/// </summary>
public sealed class Trainer(ILogger<Trainer>? logger = null) : ITrainer
{
    public const int DeviceSyncInterval = 10;
    private readonly ILogger logger = logger ?? NullLogger<Trainer>.Instance;

    public TrainOutcome Fit<TBatch>(TrainLoop<TBatch> loop, CancellationToken cancellationToken) where TBatch : IDisposable
    {
        var hyper = loop.Hyper;
        foreach (var problem in hyper.Validate()) throw new ArgumentException(problem);
        if (loop.Parameters.Count == 0) throw new ArgumentException("TrainLoop.Parameters is empty: nothing would train.");
        if (loop.Parameters.Any(p => !p.requires_grad))
            throw new ArgumentException("TrainLoop.Parameters holds a parameter with requires_grad = false: frozen weights must not be handed to the optimizer.");

        var device = loop.Parameters[0].device;
        var syncEvery = device.type == DeviceType.CPU ? 1 : DeviceSyncInterval;
        long plannedSteps = loop.StepsPerEpoch * hyper.Epochs;
        long totalSteps = hyper.MaxSteps > 0 ? (plannedSteps > 0 ? Math.Min(hyper.MaxSteps, plannedSteps) : hyper.MaxSteps) : plannedSteps;
        var schedule = new LearningRateSchedule(hyper, totalSteps);
        using var optimizer = CreateOptimizer(loop.Parameters, hyper);

        var state = new TrainState { Epochs = hyper.Epochs, TotalSteps = totalSteps };
        var position = new CheckpointPosition(0, 0, 0, null, 0);
        var resumed = false;
        if (loop.Resume && loop.CheckpointDir is not null && Checkpoint.Exists(loop.CheckpointDir))
        {
            position = Checkpoint.Load(loop.CheckpointDir, s => { loop.State?.LoadCheckpointState(s); return true; }, optimizer, loop.Generators);
            state.Step = position.Step;
            state.BestMonitor = position.BestMonitor;
            resumed = true;
            logger.LogInformation("Resumed from {Dir} at epoch {Epoch}, step {Step}.", loop.CheckpointDir, position.Epoch + 1, position.Step);
        }

        int epochsWithoutImprovement = position.EpochsWithoutImprovement;
        if (resumed) StopIfAlreadyDone(loop, hyper, state, position, epochsWithoutImprovement);

        var hooks = new List<ITrainHook>(loop.Hooks);
        var progress = loop.Progress is null ? null : new ProgressReporter(loop.Progress, loop.ItemsPerBatch > 0 ? loop.ItemsPerBatch : hyper.BatchSize);
        foreach (var hook in hooks) hook.OnStart(state);

        var pending = new List<(long Step, int Epoch, Tensor Values, double Lr, double Seconds)>();
        // Per Fit, not a field: one Trainer serves concurrent jobs (a service with several devices).
        var epochSums = new LossAccumulator();
        string[] lossNames = [];
        long stepInEpoch = 0;
        int epoch = position.Epoch;

        void SaveCheckpoint(int atEpoch, long atStepInEpoch)
        {
            if (loop.CheckpointDir is null) return;
            Checkpoint.Save(loop.CheckpointDir, new CheckpointPosition(atEpoch, atStepInEpoch, state.Step, state.BestMonitor, epochsWithoutImprovement),
                loop.State?.CheckpointState(), optimizer, loop.Generators);
        }

        // Reads the pending per-step loss values back to the host (one transfer), checks them, reports them.
        void Flush()
        {
            if (pending.Count == 0) return;
            using var scope = NewDisposeScope();
            var all = stack(pending.Select(p => p.Values).ToArray()).cpu().to_type(ScalarType.Float64);
            var values = all.data<double>().ToArray();
            var width = lossNames.Length + 1;
            for (int r = 0; r < pending.Count; r++)
            {
                var named = new Dictionary<string, double>(width);
                for (int c = 0; c < lossNames.Length; c++) named[lossNames[c]] = values[r * width + c];
                var total = values[r * width + lossNames.Length];
                if (!double.IsFinite(total)) { var bad = pending[r].Step; ClearPending(); throw new NonFiniteLossException(bad, named); }
                var report = new StepReport(pending[r].Step, pending[r].Epoch, named, total, pending[r].Lr, pending[r].Seconds);
                foreach (var hook in hooks) hook.OnStep(report, state);
                progress?.Step(report, state);
                epochSums.Add(named, total);
            }
            ClearPending();
        }
        void ClearPending() { foreach (var p in pending) p.Values.Dispose(); pending.Clear(); }

        var epochWatch = new Stopwatch();
        try
        {
            for (; epoch < hyper.Epochs && !state.StopRequested; epoch++)
            {
                state.Epoch = epoch;
                loop.SetTrainMode(true);
                epochSums = new LossAccumulator();
                epochWatch.Restart();
                stepInEpoch = 0;
                var skip = epoch == position.Epoch ? position.StepInEpoch : 0;
                foreach (var batch in loop.Batches(epoch))
                {
                    using (batch)
                    {
                        if (stepInEpoch < skip) { stepInEpoch++; continue; }   // already trained before the resume
                        // Resumed from a mid-epoch checkpoint taken at maxSteps: no step, but the epoch's end (flush,
                        // validation, report, checkpoint) as the uninterrupted run had it.
                        if (hyper.MaxSteps > 0 && state.Step >= hyper.MaxSteps)
                        {
                            state.StopRequested = true;
                            state.StopReason = $"reached maxSteps = {hyper.MaxSteps}";
                            break;
                        }
                        if (cancellationToken.IsCancellationRequested)
                        {
                            Flush();
                            SaveCheckpoint(epoch, stepInEpoch);
                            cancellationToken.ThrowIfCancellationRequested();
                        }
                        var stepWatch = Stopwatch.StartNew();
                        var lr = schedule.At(state.Step);
                        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                        using (var scope = NewDisposeScope())
                        {
                            optimizer.zero_grad();
                            // One backward per forward: frozen layers may free what they saved as their backward runs.
                            using var singleBackward = FrozenLayerBackward.SingleBackward();
                            var losses = loop.Losses(batch);
                            if (losses.Count == 0) throw new InvalidOperationException("The task returned no losses.");
                            if (lossNames.Length == 0) lossNames = losses.Keys.ToArray();
                            var total = losses.Values.Aggregate((a, b) => a + b);
                            total.backward();
                            if (hyper.GradClipNorm > 0) GradientClipping.ClipByTotalNorm(loop.Parameters, hyper.GradClipNorm);
                            optimizer.step();
                            var row = stack(lossNames.Select(n => losses[n].detach().reshape(1)).Append(total.detach().reshape(1)).ToArray()).flatten();
                            pending.Add((state.Step + 1, epoch, row.MoveToOuterDisposeScope(), lr, 0));
                        }
                        state.Step++;
                        stepInEpoch++;
                        var last = pending[^1];
                        pending[^1] = last with { Seconds = stepWatch.Elapsed.TotalSeconds };
                        if (pending.Count >= syncEvery) Flush();
                        if (hyper.CheckpointEvery > 0 && state.Step % hyper.CheckpointEvery == 0) { Flush(); SaveCheckpoint(epoch, stepInEpoch); }
                        if (hyper.MaxSteps > 0 && state.Step >= hyper.MaxSteps) { state.StopRequested = true; state.StopReason = $"reached maxSteps = {hyper.MaxSteps}"; }
                    }
                    if (state.StopRequested) break;
                }
                Flush();

                var validation = RunValidation(loop);
                var report = new EpochReport(epoch, stepInEpoch, epochSums.Means(), validation, epochWatch.Elapsed.TotalSeconds);
                state.History.Add(report);
                UpdateEarlyStopping(loop, hyper, state, validation, ref epochsWithoutImprovement);
                foreach (var hook in hooks) hook.OnEpochEnd(report, state);
                progress?.Epoch(report, state);
                logger.LogInformation("Epoch {Epoch}/{Epochs}: {Losses}{Validation}", epoch + 1, hyper.Epochs,
                    string.Join(", ", report.MeanLosses.Select(kv => $"{kv.Key}={kv.Value:F4}")),
                    validation.Count == 0 ? "" : " | " + string.Join(", ", validation.Select(kv => $"{kv.Key}={kv.Value:F4}")));
                SaveCheckpoint(epoch + 1, 0);
            }
        }
        finally
        {
            ClearPending();
            loop.SetTrainMode(false);
        }
        foreach (var hook in hooks) hook.OnEnd(state);
        return new TrainOutcome(state.Step, state.History, state.StopRequested && state.StopReason is not null && !state.StopReason.StartsWith("reached maxSteps"), state.StopReason, resumed);
    }

    private static IReadOnlyDictionary<string, double> RunValidation<TBatch>(TrainLoop<TBatch> loop) where TBatch : IDisposable
    {
        if (loop.Validate is null) return new Dictionary<string, double>();
        loop.SetTrainMode(false);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return loop.Validate();
    }

    /// <summary>An end-of-epoch checkpoint written after the run had stopped (maxSteps reached, or early stopping's
    /// patience used up: the save records the position after it) resumes to no further step or epoch: the stop is
    /// re-derived from the position, so that a resumed run ends exactly where the uninterrupted one did. (A mid-epoch
    /// checkpoint at maxSteps resumes into that epoch, whose loop stops before any step and still ends the epoch.)</summary>
    private static void StopIfAlreadyDone<TBatch>(TrainLoop<TBatch> loop, TrainingHyperParameters hyper, TrainState state, CheckpointPosition position,
        int epochsWithoutImprovement) where TBatch : IDisposable
    {
        if (position.StepInEpoch > 0) return;
        if (hyper.MaxSteps > 0 && state.Step >= hyper.MaxSteps)
        {
            state.StopRequested = true;
            state.StopReason = $"reached maxSteps = {hyper.MaxSteps}";
        }
        else if (loop.Monitor is not null && hyper.EarlyStoppingPatience > 0 && epochsWithoutImprovement >= hyper.EarlyStoppingPatience)
        {
            state.StopRequested = true;
            state.StopReason = $"early stopping: {loop.Monitor} did not improve for {epochsWithoutImprovement} epochs (best {state.BestMonitor:G6})";
        }
    }

    private void UpdateEarlyStopping<TBatch>(TrainLoop<TBatch> loop, TrainingHyperParameters hyper, TrainState state,
        IReadOnlyDictionary<string, double> validation, ref int epochsWithoutImprovement) where TBatch : IDisposable
    {
        if (loop.Monitor is null) return;
        if (!validation.TryGetValue(loop.Monitor, out var value))
            throw new InvalidOperationException($"Monitor '{loop.Monitor}' is not among the validation metrics ({string.Join(", ", validation.Keys)}).");
        var better = state.BestMonitor is null || (loop.MonitorHigherIsBetter ? value > state.BestMonitor : value < state.BestMonitor);
        if (better) { state.BestMonitor = value; epochsWithoutImprovement = 0; return; }
        epochsWithoutImprovement++;
        if (hyper.EarlyStoppingPatience > 0 && epochsWithoutImprovement >= hyper.EarlyStoppingPatience)
        {
            state.StopRequested = true;
            state.StopReason = $"early stopping: {loop.Monitor} did not improve for {epochsWithoutImprovement} epochs (best {state.BestMonitor:G6})";
            logger.LogInformation("{Reason}", state.StopReason);
        }
    }

    public static OptimizerHelper CreateOptimizer(IReadOnlyList<Parameter> parameters, TrainingHyperParameters hyper) =>
        hyper.Optimizer.ToLowerInvariant() switch
        {
            "adamw" => optim.AdamW(parameters, hyper.LearningRate, weight_decay: hyper.WeightDecay),
            "sgd" => optim.SGD(parameters, hyper.LearningRate, momentum: hyper.Momentum, weight_decay: hyper.WeightDecay),
            var other => throw new ArgumentException($"Unknown optimizer '{other}'. Valid: {string.Join(", ", TrainingHyperParameters.Optimizers)}."),
        };
}
