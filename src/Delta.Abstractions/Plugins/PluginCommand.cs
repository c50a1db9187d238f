namespace Delta.Abstractions.Plugins;

/// <summary>
/// A CLI verb a plugin contributes (e.g. the classification plugin's "compare" and "demo"). The host
/// lists it under `delta --help`, builds a <see cref="TaskContext"/> (device from --device), and passes
/// the remaining arguments unparsed. The plugin parses them, prints `--help` itself, and returns an exit
/// code: 0 ok, 1 failure, 2 bad input.
/// </summary>
public sealed record PluginCommand(
    string Name,
    string Description,
    string Usage,
    Func<TaskContext, IReadOnlyList<string>, CancellationToken, Task<int>> RunAsync);
