namespace Folio.Core.Models;

/// <summary>
/// Deterministic random weights: element i of tensor `name` is a pure function of (seed, name, i), so any
/// slice can be generated alone (large shapes are written in chunks) and every run, machine and thread count
/// sees the same model. Linear weights are uniform with std 1/√fan_in (activations stay O(1) through the
/// layers), norm weights are 1, embeddings have std 0.5.
/// </summary>
public sealed class SeededWeights(long seed = 0) : IWeightSource
{
    public bool Contains(string name) => true;

    public void Read(string name, ReadOnlySpan<long> expectedShape, Span<float> destination) =>
        Fill(name, expectedShape, 0, destination);

    public bool ReadsRows => true;

    public void ReadRows(string name, ReadOnlySpan<long> expectedShape, long firstRow, Span<float> destination) =>
        Fill(name, expectedShape, firstRow * expectedShape[^1], destination);

    /// <summary>Fills destination with elements [offset, offset + destination.Length) of the tensor.</summary>
    public void Fill(string name, ReadOnlySpan<long> shape, long offset, Span<float> destination)
    {
        if (name.Contains("norm", StringComparison.Ordinal))
        {
            destination.Fill(1f);
            return;
        }
        double std = name.Contains("embed_tokens", StringComparison.Ordinal) ? 0.5
            : name.EndsWith("bias", StringComparison.Ordinal) ? 0.02
            : 1.0 / Math.Sqrt(shape[^1]);
        float halfWidth = (float)(std * Math.Sqrt(3));   // uniform on [-a, a] has std a/√3
        ulong key = Mix((ulong)seed ^ Fnv1a(name));
        for (int i = 0; i < destination.Length; i++)
        {
            ulong bits = Mix(key + (ulong)(offset + i) * 0x9E3779B97F4A7C15UL);
            float unit = (bits >> 40) * (1f / (1 << 24));   // [0, 1), 24 random bits
            destination[i] = (2 * unit - 1) * halfWidth;
        }
    }

    private static ulong Fnv1a(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        return h;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
