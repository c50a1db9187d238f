using Delta.Abstractions.Backbones;

namespace Delta.Abstractions.Plugins;

/// <summary>What a plugin declares about itself. <paramref name="Id"/> is unique across loaded plugins
/// and is what job files name. Empty <paramref name="SupportedArchitectures"/> = any registry architecture.</summary>
public sealed record TaskPluginInfo(
    string Id,
    string Description,
    TaskKind Kind,
    IReadOnlyList<string> SupportedArchitectures,
    IReadOnlyList<int> SupportedDeltaStages,
    int ContractVersion = DeltaContract.Version);
