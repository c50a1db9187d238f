namespace Delta.Abstractions.Training;

/// <summary>
/// The one training loop. It knows nothing about tasks: each step it asks the task for named losses,
/// sums them, stops on a non-finite total (<see cref="NonFiniteLossException"/>), back-propagates, clips,
/// steps the optimizer over <see cref="TrainLoop{TBatch}.Parameters"/> only, and advances the schedule.
/// Every step runs in its own dispose scope; numbers, not tensors, reach hooks and logs.
/// Checkpointing, progress, logging and early stopping are <see cref="ITrainHook"/>s.
/// </summary>
public interface ITrainer
{
    TrainOutcome Fit<TBatch>(TrainLoop<TBatch> loop, CancellationToken cancellationToken) where TBatch : IDisposable;
}
