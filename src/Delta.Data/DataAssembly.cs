namespace Delta.Data;

/// <summary>Anchor type of the Delta.Data assembly (the host names it to share the assembly with plugins).</summary>
public static class DataAssembly
{
}
