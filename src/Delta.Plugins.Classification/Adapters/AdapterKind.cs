namespace Delta.Plugins.Classification.Adapters;

/// <summary>
/// Per-task baselines that change the base computation (paper Table 1 rows), unlike Δ-patching:
/// <list type="bullet">
/// <item><see cref="Series"/>: Rebuffi et al. 2017 residual adapters, y ↦ y + W₁ₓ₁·BN_a(y) after every 3x3 conv of
/// every residual block.</item>
/// <item><see cref="Parallel"/>: Rebuffi et al. 2018 parallel adapters, conv3x3(x) + W₁ₓ₁·x (same stride).</item>
/// <item><see cref="BatchNorm"/>: BN adaptation, per-task BN affine parameters and running statistics only.</item>
/// </list>
/// All three train the BN layers of their private base copy (affine + statistics), as both Rebuffi papers do
/// ("task-specific" BN); the conv weights of the copy stay frozen.
/// </summary>
public enum AdapterKind
{
    Series,
    Parallel,
    BatchNorm,
}

/// <summary>Registry names of <see cref="AdapterKind"/> (the `compare` method names and the patch manifest's "adapter").</summary>
public static class AdapterKinds
{
    public static IReadOnlyDictionary<string, AdapterKind> Names { get; } = new Dictionary<string, AdapterKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["adapter-series"] = AdapterKind.Series,
        ["adapter-parallel"] = AdapterKind.Parallel,
        ["bn-adapt"] = AdapterKind.BatchNorm,
    };

    public static string Name(AdapterKind kind) => Names.First(kv => kv.Value == kind).Key;

    public static AdapterKind Parse(string name) => Names.TryGetValue(name, out var k) ? k
        : throw new ArgumentException($"Unknown adapter '{name}'. Valid: {string.Join(", ", Names.Keys)}.");

    public static bool TryParse(string name, out AdapterKind kind) => Names.TryGetValue(name, out kind);

    /// <summary>Label for tables.</summary>
    public static string Label(AdapterKind kind) => kind switch
    {
        AdapterKind.Series => "Residual adapters (series)",
        AdapterKind.Parallel => "Residual adapters (parallel)",
        AdapterKind.BatchNorm => "BN adaptation",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
