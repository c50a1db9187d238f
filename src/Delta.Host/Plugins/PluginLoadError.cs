namespace Delta.Host.Plugins;

/// <summary>A plugin that could not be used, with its path and why; the others keep working.</summary>
public sealed record PluginLoadError(string Path, string Reason);
