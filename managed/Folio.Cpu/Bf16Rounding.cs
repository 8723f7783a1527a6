using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu;

/// <summary>fp32 → bf16 rounded to nearest, ties to even (what PyTorch's <c>.to(torch.bfloat16)</c> does); a NaN stays
/// a (quiet) NaN, ±∞ stays ±∞, a value past bf16's largest rounds to ∞. The vector path computes the same bits as
/// <see cref="Round(float)"/>, 16 lanes at a time.</summary>
internal static class Bf16Rounding
{
    public static ushort Round(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFFFFFF) > 0x7F800000)
            return (ushort)((bits | 0x00400000) >> 16);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

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
        for (; i < source.Length; i++)
            destination[i] = Round(source[i]);
    }

    private static ref uint Unsafe(ReadOnlySpan<float> source) =>
        ref MemoryMarshal.GetReference(MemoryMarshal.Cast<float, uint>(source));
}
