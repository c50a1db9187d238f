using Delta.Abstractions.Plugins;
using Delta.Host.Plugins;
using TorchSharp;

namespace Delta.Host.Jobs;

/// <summary>A job that passed every check: the plugin to run, bound options, the dataset inside the data root, the
/// device, and how the frozen base runs (<see cref="JobSpec.FrozenBase"/>).</summary>
public sealed record ValidatedJob(JobSpec Spec, LoadedPlugin Plugin, ITaskOptions Options, string DatasetPath, torch.Device Device,
    Training.FrozenBaseMode FrozenBase = Training.FrozenBaseMode.Exact);
