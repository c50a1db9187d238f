using Delta.Abstractions.Plugins;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Delta.Abstractions.Training;

/// <summary>Everything the loop needs from a task for one training run.</summary>
public sealed class TrainLoop<TBatch> where TBatch : IDisposable
{
    /// <summary>Trainable parameters only (Δ-modules + heads). Frozen base weights must never be here.</summary>
    public required IReadOnlyList<Parameter> Parameters { get; init; }
    /// <summary>The task model in training: named losses for a batch (e.g. "cls", "box", "rpn_obj").
    /// The loop sums them; the names go to logs and curves.</summary>
    public required Func<TBatch, IReadOnlyDictionary<string, Tensor>> Losses { get; init; }
    /// <summary>The batches of one epoch (0-based epoch index). The loop disposes each batch after its step.</summary>
    public required Func<int, IEnumerable<TBatch>> Batches { get; init; }
    public required TrainingHyperParameters Hyper { get; init; }
    /// <summary>Steps per epoch if known (for schedules, ETA). 0 = unknown: the schedule then uses MaxSteps.</summary>
    public long StepsPerEpoch { get; init; }
    /// <summary>Items (images) per batch, for items/s in progress; 0 = use Hyper.BatchSize.</summary>
    public int ItemsPerBatch { get; init; }
    /// <summary>Puts the task model in train (true) or eval (false) mode; the frozen base stays in eval regardless.</summary>
    public required Action<bool> SetTrainMode { get; init; }
    /// <summary>Validation metrics after each epoch (runs in eval mode, no grad). Null = none.</summary>
    public Func<IReadOnlyDictionary<string, double>>? Validate { get; init; }
    /// <summary>Key of <see cref="Validate"/>'s result that early stopping and "best" use.</summary>
    public string? Monitor { get; init; }
    public bool MonitorHigherIsBetter { get; init; } = true;
    public IList<ITrainHook> Hooks { get; init; } = [];
    /// <summary>Task tensors a checkpoint must hold besides the optimizer (Δ, heads, BN buffers).</summary>
    public ICheckpointable? State { get; init; }
    /// <summary>Generators the task draws from while training (dropout masks, random gates), besides libtorch's default
    /// CPU generator: a checkpoint carries their states, in this order, so a resumed run continues their streams. A
    /// device's default generator cannot be saved from TorchSharp 0.107, so random draws on CUDA belong here.</summary>
    public IReadOnlyList<Generator> Generators { get; init; } = [];
    /// <summary>Where checkpoints go; null = no checkpoints.</summary>
    public string? CheckpointDir { get; init; }
    /// <summary>Continue from the newest checkpoint in <see cref="CheckpointDir"/> when one exists.</summary>
    public bool Resume { get; init; }
    public IProgress<TrainProgress>? Progress { get; init; }
}
