using System.Numerics;
using System.Runtime.InteropServices;

namespace Folio.Structured;

/// <summary>Helpers over token masks: bit i of word i/64 set = token i allowed.</summary>
public static class BitMask
{
    public static void Or(Span<ulong> target, ReadOnlySpan<ulong> source)
    {
        var t = MemoryMarshal.Cast<ulong, Vector<ulong>>(target);
        var s = MemoryMarshal.Cast<ulong, Vector<ulong>>(source[..target.Length]);
        for (int i = 0; i < t.Length; i++) t[i] |= s[i];
        for (int i = t.Length * Vector<ulong>.Count; i < target.Length; i++) target[i] |= source[i];
    }

    public static bool Get(ReadOnlySpan<ulong> mask, int id) => (mask[id >> 6] & (1UL << (id & 63))) != 0;

    public static void Set(Span<ulong> mask, int id) => mask[id >> 6] |= 1UL << (id & 63);

    public static int Count(ReadOnlySpan<ulong> mask)
    {
        int n = 0;
        foreach (ulong w in mask) n += BitOperations.PopCount(w);
        return n;
    }
}
