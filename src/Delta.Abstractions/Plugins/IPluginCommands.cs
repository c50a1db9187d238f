namespace Delta.Abstractions.Plugins;

/// <summary>Optional: a task plugin that also implements this adds verbs to the host CLI.
/// Verb names are global; the host reports a clash with a built-in verb or another plugin's verb as a load error.</summary>
public interface IPluginCommands
{
    IReadOnlyList<PluginCommand> Commands { get; }
}
