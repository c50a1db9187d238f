using Delta.Abstractions.Plugins;

namespace Delta.Host.Plugins;

/// <summary>A task plugin instance and where it came from.</summary>
public sealed record LoadedPlugin(ITaskPlugin Plugin, string AssemblyPath)
{
    public TaskPluginInfo Info => Plugin.Info;
    public IReadOnlyList<PluginCommand> Commands => (Plugin as IPluginCommands)?.Commands ?? [];
}
