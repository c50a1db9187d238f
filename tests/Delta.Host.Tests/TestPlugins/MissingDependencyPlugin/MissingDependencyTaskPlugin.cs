using Delta.Abstractions.Plugins;

namespace MissingDependencyPlugin;

public sealed class MissingDependencyTaskPlugin : MissingDependency.Lib.PluginBase
{
    public override TaskPluginInfo Info { get; } = new("missing-dependency", "Needs MissingDependency.Lib", TaskKind.Other, [], []);
}
