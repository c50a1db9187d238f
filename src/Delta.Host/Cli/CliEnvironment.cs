using Delta.Abstractions.Patches;
using Delta.Abstractions.Plugins;
using Delta.Backbones.Patches;
using Delta.Backbones.Registry;
using Delta.Host.Hosting;
using Delta.Host.Plugins;
using Delta.Host.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Delta.Host.Cli;

/// <summary>What every verb works with: folders, the plugin catalog, the one backbone registry of the
/// process (so every task shares its frozen bases), logging.</summary>
public sealed class CliEnvironment(DeltaPaths paths, PluginCatalog catalog, ILoggerFactory loggers) : IDisposable
{
    // `delta serve` reads the registry from HTTP validation threads and device loops at once: built once, under a lock,
    // so every job shares one set of frozen bases and no second registry is left undisposed.
    private readonly Lazy<BackboneRegistry> registry = new(BackboneRegistry.CreateDefault, LazyThreadSafetyMode.ExecutionAndPublication);

    public DeltaPaths Paths { get; } = paths;
    public PluginCatalog Catalog { get; } = catalog;
    public ILoggerFactory Loggers { get; } = loggers;
    public BackboneRegistry Registry => registry.Value;
    public PatchStore Patches => new(Paths.PatchesPath);

    /// <summary>A plugin's context; <paramref name="mode"/> other than exact wraps the registry in a
    /// <see cref="FrozenBaseModeRegistry"/>.</summary>
    public TaskContext Context(torch.Device device, string category, FrozenBaseMode mode = FrozenBaseMode.Exact, IPatchStore? patches = null) => new()
    {
        Backbones = mode == FrozenBaseMode.Exact ? Registry : new FrozenBaseModeRegistry(Registry, mode),
        Device = device,
        Logger = Loggers.CreateLogger(category),
        DataRoot = Paths.DataRoot,
        OutputRoot = Paths.OutputPath,
        Patches = patches ?? Patches,
        Trainer = new Trainer(Loggers.CreateLogger<Trainer>()),
    };

    public void Dispose()
    {
        if (registry.IsValueCreated) registry.Value.Dispose();
    }
}
