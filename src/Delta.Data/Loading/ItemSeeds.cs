namespace Delta.Data.Loading;

/// <summary>
/// The seed of one item's augmentation generator, from (loader seed, epoch, position in the epoch): a fixed function
/// (SplitMix64's finaliser over the packed values), so a run repeats under the same seed in any process and on any
/// worker thread. <see cref="HashCode.Combine{T1, T2, T3}"/>, used before, is randomised per process: augmentation
/// then changed from run to run whatever the seed.
/// </summary>
public static class ItemSeeds
{
    public static int For(int seed, int epoch, int position)
    {
        unchecked
        {
            // Packed (epoch, position) xor the spread seed, plus SplitMix64's increment (so all-zero inputs do not map to 0).
            var z = ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ ((ulong)(uint)epoch << 32 | (uint)position)) + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return (int)(z ^ (z >> 31));
        }
    }
}
