using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary><see cref="BFloat16.FromSingle"/> over a span: the KV cache's writes, 16 lanes at a time where AVX-512
/// runs, two 8-lane halves where AVX2 does (the same bits as the scalar rule, which takes the tail).</summary>
internal static class Bf16Rounding
{

    public static void Round(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException("bf16 destination shorter than its source");
        int i = 0;
        if (Avx512F.IsSupported)
        {
            ref uint s = ref Unsafe(source);
            ref ushort d = ref MemoryMarshal.GetReference(destination);
            var quiet = Vector512.Create(0x00400000u);
            for (; i + 16 <= source.Length; i += 16)
            {
                var bits = Vector512.LoadUnsafe(ref s, (nuint)i);
                var nan = Vector512.GreaterThan(bits & Vector512.Create(0x7FFFFFFFu), Vector512.Create(0x7F800000u));
                var rounded = bits + Vector512.Create(0x7FFFu) + ((bits >> 16) & Vector512<uint>.One);
                var chosen = Vector512.ConditionalSelect(nan, bits | quiet, rounded) >> 16;
                Avx512F.ConvertToVector256UInt16(chosen).StoreUnsafe(ref d, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            ref uint s = ref Unsafe(source);
            ref ushort d = ref MemoryMarshal.GetReference(destination);
            for (; i + 16 <= source.Length; i += 16)
                Vector256.Narrow(Round(Vector256.LoadUnsafe(ref s, (nuint)i)), Round(Vector256.LoadUnsafe(ref s, (nuint)i + 8)))
                    .StoreUnsafe(ref d, (nuint)i);
        }
        for (; i < source.Length; i++)
            destination[i] = BFloat16.FromSingle(source[i]);
    }

    /// <summary>Eight fp32 bit patterns rounded to their bf16 bits (in the low halves), by the 512-bit path's rule.</summary>
    private static Vector256<uint> Round(Vector256<uint> bits)
    {
        var nan = Vector256.GreaterThan(bits & Vector256.Create(0x7FFFFFFFu), Vector256.Create(0x7F800000u));
        var rounded = bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One);
        return Vector256.ConditionalSelect(nan, bits | Vector256.Create(0x00400000u), rounded) >> 16;
    }

    private static ref uint Unsafe(ReadOnlySpan<float> source) =>
        ref MemoryMarshal.GetReference(MemoryMarshal.Cast<float, uint>(source));
}
