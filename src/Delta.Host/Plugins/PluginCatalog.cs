using System.Reflection;
using Delta.Abstractions;
using Delta.Abstractions.Patches;
using Delta.Abstractions.Plugins;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.Logging;

namespace Delta.Host.Plugins;

/// <summary>
/// Finds task plugins in plugins/&lt;Name&gt;/&lt;Name&gt;.dll and loads each in its own load context
/// (McMaster.NETCore.Plugins), sharing the contract, TorchSharp, Delta.Backbones, Delta.Data and the
/// Microsoft.Extensions abstractions with the host: one libtorch in the process, and contract types that
/// cast across the boundary. A plugin that cannot be used — its assembly or a dependency fails to load, its
/// constructor throws, it was built against another contract version, its id or a verb clashes — is
/// recorded in <see cref="Errors"/> with path and reason; the others load normally.
/// </summary>
public sealed class PluginCatalog
{
    /// <summary>Types whose assemblies the host shares with every plugin.</summary>
    public static readonly Type[] SharedTypes =
    [
        typeof(ITaskPlugin),                                   // Delta.Abstractions
        typeof(TorchSharp.torch),                              // TorchSharp
        typeof(Delta.Backbones.Registry.BackboneRegistry),     // Delta.Backbones
        typeof(Delta.Data.DataAssembly),                       // Delta.Data
        typeof(ILogger),                                       // Microsoft.Extensions.Logging.Abstractions
        typeof(Microsoft.Extensions.Configuration.IConfiguration),
    ];

    private readonly List<LoadedPlugin> plugins = [];
    private readonly List<PluginLoadError> errors = [];

    public IReadOnlyList<LoadedPlugin> Plugins => plugins;
    public IReadOnlyList<PluginLoadError> Errors => errors;
    public string Folder { get; }

    private PluginCatalog(string folder) => Folder = folder;

    /// <param name="reservedVerbs">Built-in verb names a plugin verb may not take.</param>
    public static PluginCatalog Load(string folder, IReadOnlyCollection<string> reservedVerbs, ILogger? logger = null)
    {
        var catalog = new PluginCatalog(folder);
        if (!Directory.Exists(folder)) return catalog;
        var verbs = new HashSet<string>(reservedVerbs, StringComparer.OrdinalIgnoreCase);
        foreach (var dir in Directory.GetDirectories(folder).OrderBy(d => d, StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            var dll = Path.Combine(dir, name + ".dll");
            if (!File.Exists(dll)) { catalog.errors.Add(new(dir, $"no {name}.dll in the folder (a plugin folder holds <Name>/<Name>.dll).")); continue; }
            catalog.LoadAssembly(dll, verbs, logger);
        }
        return catalog;
    }

    private void LoadAssembly(string dll, HashSet<string> verbs, ILogger? logger)
    {
        Type[] types;
        try
        {
            var loader = PluginLoader.CreateFromAssemblyFile(dll, SharedTypes, config => config.PreferSharedTypes = true);
            var assembly = loader.LoadDefaultAssembly();
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            var first = e.LoaderExceptions.FirstOrDefault(x => x is not null);
            errors.Add(new(dll, $"a type could not be loaded: {first?.Message ?? e.Message}"));
            return;
        }
        catch (Exception e)
        {
            errors.Add(new(dll, $"the assembly could not be loaded: {e.GetType().Name}: {e.Message}"));
            return;
        }
        foreach (var type in types.Where(t => typeof(ITaskPlugin).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }))
        {
            ITaskPlugin plugin;
            TaskPluginInfo info;
            try
            {
                plugin = (ITaskPlugin)(Activator.CreateInstance(type)
                    ?? throw new InvalidOperationException("Activator returned null"));
                info = plugin.Info;
            }
            catch (Exception e)
            {
                var inner = e is TargetInvocationException { InnerException: { } ie } ? ie : e;
                errors.Add(new(dll, $"{type.FullName} could not be created: {inner.GetType().Name}: {inner.Message}"));
                continue;
            }
            if (info.ContractVersion != DeltaContract.Version)
            {
                errors.Add(new(dll, $"plugin '{info.Id}' was built against contract version {info.ContractVersion}; this host speaks version {DeltaContract.Version}. Rebuild it against the current Delta.Abstractions."));
                continue;
            }
            if (plugins.FirstOrDefault(p => string.Equals(p.Info.Id, info.Id, StringComparison.OrdinalIgnoreCase)) is { } clash)
            {
                errors.Add(new(dll, $"plugin id '{info.Id}' is already taken by {clash.AssemblyPath}."));
                continue;
            }
            var commands = (plugin as IPluginCommands)?.Commands ?? [];
            var taken = commands.Where(c => verbs.Contains(c.Name)).Select(c => c.Name).ToList();
            if (taken.Count > 0)
            {
                errors.Add(new(dll, $"plugin '{info.Id}' declares verb(s) {string.Join(", ", taken)} that already exist."));
                continue;
            }
            foreach (var c in commands) verbs.Add(c.Name);
            plugins.Add(new LoadedPlugin(plugin, dll));
            logger?.LogDebug("Loaded plugin {Id} from {Path}", info.Id, dll);
        }
    }

    public LoadedPlugin Get(string id) =>
        Find(id) ?? throw new BadInputException($"Unknown plugin '{id}'. Loaded: {LoadedIds}.");

    /// <summary>The plugin that saved <paramref name="patch"/>; a patch of a plugin that is not loaded is refused naming the
    /// patch file, since the user typed a patch name, not the plugin's.</summary>
    public LoadedPlugin ForPatch(PatchSummary patch) =>
        Find(patch.Manifest.PluginId) ?? throw new BadInputException(
            $"{patch.Path}: a patch of plugin '{patch.Manifest.PluginId}', which is not loaded (see `delta plugins` for load errors). Loaded: {LoadedIds}.");

    private LoadedPlugin? Find(string id) => plugins.FirstOrDefault(p => string.Equals(p.Info.Id, id, StringComparison.OrdinalIgnoreCase));

    private string LoadedIds => plugins.Count == 0 ? "(none)" : string.Join(", ", plugins.Select(p => p.Info.Id));
}
