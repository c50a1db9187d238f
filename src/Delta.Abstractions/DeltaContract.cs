namespace Delta.Abstractions;

/// <summary>
/// Version of the host/plugin contract. A plugin records the version it was built against
/// (<see cref="Plugins.TaskPluginInfo.ContractVersion"/>); the host refuses a plugin whose major
/// version differs from its own. Bump on any breaking change to a type in this assembly.
/// </summary>
public static class DeltaContract
{
    public const int Version = 1;
}
