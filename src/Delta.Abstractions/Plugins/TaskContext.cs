using Delta.Abstractions.Backbones;
using Delta.Abstractions.Patches;
using Delta.Abstractions.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Delta.Abstractions.Plugins;

/// <summary>Everything the host hands a plugin for one call.</summary>
public sealed class TaskContext
{
    public required IBackboneRegistry Backbones { get; init; }
    public required torch.Device Device { get; init; }
    public required ILogger Logger { get; init; }
    /// <summary>Absolute folder all dataset paths are confined to.</summary>
    public required string DataRoot { get; init; }
    /// <summary>Absolute folder for run outputs (metrics, pictures); plugins write under the request's OutputDir.</summary>
    public required string OutputRoot { get; init; }
    public required IPatchStore Patches { get; init; }
    /// <summary>The task-agnostic training loop (checkpointing, logging, early stopping, progress are its hooks).</summary>
    public required ITrainer Trainer { get; init; }
}
