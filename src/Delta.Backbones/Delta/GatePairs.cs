namespace Delta.Backbones.Delta;

/// <summary>
/// Layout of the gate vector Λ of a stage with k sub-blocks: one gate λ_{i,j} per pair 0 ≤ i &lt; j ≤ k,
/// k(k+1)/2 in all, grouped by target block j and sources i ascending — (0,1),(0,2),(1,2),(0,3),… — the
/// order documented on <see cref="Abstractions.Backbones.BackboneFeatures"/>.
/// </summary>
public static class GatePairs
{
    public static int Count(int blocks) => blocks * (blocks + 1) / 2;

    /// <summary>Index of λ_{i,j} in Λ: the gates of target j start after the j(j−1)/2 gates of targets 1..j−1.</summary>
    public static int Index(int source, int target)
    {
        if (source < 0 || source >= target) throw new ArgumentOutOfRangeException(nameof(source), $"Need 0 ≤ i < j (got i={source}, j={target}).");
        return target * (target - 1) / 2 + source;
    }

    /// <summary>First index of the gates into target j (they are contiguous: j of them).</summary>
    public static int TargetOffset(int target) => target * (target - 1) / 2;

    public static IEnumerable<(int Source, int Target)> All(int blocks)
    {
        for (int j = 1; j <= blocks; j++)
            for (int i = 0; i < j; i++) yield return (i, j);
    }
}
