namespace Folio.Core.Sampling;

/// <summary>
/// Counter-based random numbers: the uniform draw for (seed, sequence index, position) is a pure function of
/// those three, so a seeded request samples the same tokens whatever it is batched with, however its prompt
/// was chunked, and after any preemption (no generator state to lose or share).
/// </summary>
public static class SampleStream
{
    /// <summary>A uniform double in [0, 1).</summary>
    public static double Uniform(long seed, int sequenceIndex, int position)
    {
        ulong x = Mix((ulong)seed ^ 0x9E3779B97F4A7C15UL);
        x = Mix(x ^ (uint)sequenceIndex);
        x = Mix(x ^ ((ulong)(uint)position << 32));
        return (x >> 11) * (1.0 / (1UL << 53));
    }

    // SplitMix64's finaliser: a bijection with full avalanche.
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
