namespace NoTaskPlugin;

/// <summary>A plugin project whose task is not written yet: the catalog finds no ITaskPlugin here, which is not an error.</summary>
public static class Nothing
{
    public const string Why = "no task yet";
}
