using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Folio.Core.Compute;

namespace Folio.Cpu.Weights;

/// <summary>
/// <see cref="KQuantDot"/> for four activation rows against one weight row: each block's nibbles, 6-bit values and
/// scales are unpacked once and used four times (prefill and batched decode). Per row it does exactly the single-row
/// arithmetic: the int32 sums are exact whatever order they are added in, and the fp32 steps (convert, FMA with d,
/// FMA with dmin, the final subtraction and <see cref="Vector256.Sum{T}"/>) are the same instructions on the same
/// values, so a row's output has the same bits in this tile as alone (tested).
/// </summary>
internal static class KQuantDot4
{
    /// <summary>Rows r = 0..3 of x start at <paramref name="x"/> + r · <paramref name="xStride"/>, their group sums at
    /// <paramref name="sums"/> + r · <paramref name="sumsStride"/>; returns the four dot products.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static Vector128<float> Q4K(ref byte w, int blocks, ref sbyte x, int xStride, ref int sums, int sumsStride)
    {
        Vector256<float> d0 = default, d1 = default, d2 = default, d3 = default;
        Vector256<float> m0 = default, m1 = default, m2 = default, m3 = default;
        var low = Vector256.Create((byte)0x0F);
        ref sbyte x1 = ref Unsafe.Add(ref x, xStride);
        ref sbyte x2 = ref Unsafe.Add(ref x1, xStride);
        ref sbyte x3 = ref Unsafe.Add(ref x2, xStride);
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref w, b * KQuantFormats.Q4KBlockBytes);
            uint dd = Unsafe.ReadUnaligned<uint>(ref block);
            float d = KQuantDot.HalfToSingle(dd), dmin = KQuantDot.HalfToSingle(dd >> 16);
            var (sc03, sc47, mn03, mn47) = KQuantDot.Q4KScales(ref block);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (int c = 0; c < 4; c++)
            {
                uint sc = c < 2 ? sc03 : sc47;
                int shift = 16 * (c & 1);
                var sl = Vector256.Create((short)((sc >> shift) & 0xFF));
                var sh = Vector256.Create((short)((sc >> (shift + 8)) & 0xFF));
                var raw = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 16 + 32 * c));
                var lo = raw & low;
                var hi = Avx2.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & low;
                int at = b * 256 + 64 * c;
                i0 = Pair(i0, lo, hi, ref Unsafe.Add(ref x, at), sl, sh);
                i1 = Pair(i1, lo, hi, ref Unsafe.Add(ref x1, at), sl, sh);
                i2 = Pair(i2, lo, hi, ref Unsafe.Add(ref x2, at), sl, sh);
                i3 = Pair(i3, lo, hi, ref Unsafe.Add(ref x3, at), sl, sh);
            }
            var dv = Vector256.Create(d);
            var mv = Vector256.Create(dmin);
            var mins = Avx2.ConvertToVector256Int32(Vector128.Create(mn03, mn47, 0u, 0u).AsByte());
            ref int s = ref Unsafe.Add(ref sums, b * 8);
            d0 = MulAdd(Avx.ConvertToVector256Single(i0), dv, d0);
            m0 = MulAdd(Avx.ConvertToVector256Single(Avx2.MultiplyLow(mins, Avx2.ShiftRightArithmetic(Vector256.LoadUnsafe(ref s), 3))), mv, m0);
            d1 = MulAdd(Avx.ConvertToVector256Single(i1), dv, d1);
            m1 = MulAdd(Avx.ConvertToVector256Single(Avx2.MultiplyLow(mins, Avx2.ShiftRightArithmetic(Vector256.LoadUnsafe(ref Unsafe.Add(ref s, sumsStride)), 3))), mv, m1);
            d2 = MulAdd(Avx.ConvertToVector256Single(i2), dv, d2);
            m2 = MulAdd(Avx.ConvertToVector256Single(Avx2.MultiplyLow(mins, Avx2.ShiftRightArithmetic(Vector256.LoadUnsafe(ref Unsafe.Add(ref s, 2 * sumsStride)), 3))), mv, m2);
            d3 = MulAdd(Avx.ConvertToVector256Single(i3), dv, d3);
            m3 = MulAdd(Avx.ConvertToVector256Single(Avx2.MultiplyLow(mins, Avx2.ShiftRightArithmetic(Vector256.LoadUnsafe(ref Unsafe.Add(ref s, 3 * sumsStride)), 3))), mv, m3);
        }
        return Vector128.Create(Vector256.Sum(d0 - m0), Vector256.Sum(d1 - m1), Vector256.Sum(d2 - m2), Vector256.Sum(d3 - m3));
    }

    /// <summary>isum + sub-block 2c (low nibbles · x[0..32]) · scLow + sub-block 2c + 1 (high · x[32..64]) · scHigh.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Pair(Vector256<int> isum, Vector256<byte> lo, Vector256<byte> hi, ref sbyte x, Vector256<short> scLow, Vector256<short> scHigh) =>
        ScaleAdd(ScaleAdd(isum, Avx2.MultiplyAddAdjacent(lo, Vector256.LoadUnsafe(ref x)), scLow),
            Avx2.MultiplyAddAdjacent(hi, Vector256.LoadUnsafe(ref Unsafe.Add(ref x, 32))), scHigh);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaleAdd(Vector256<int> isum, Vector256<short> p, Vector256<short> scale) =>
        AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(isum, p, scale) : isum + Avx2.MultiplyAddAdjacent(p, scale);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    /// <summary>Q6_K for four rows (strides as <see cref="Q4K"/>; no group sums).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static Vector128<float> Q6K(ref byte w, int blocks, ref sbyte x, int xStride, ref short sums16, int sumsStride)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var low = Vector256.Create((byte)0x0F);
        var high = Vector256.Create((byte)0x30);
        ref sbyte x1 = ref Unsafe.Add(ref x, xStride);
        ref sbyte x2 = ref Unsafe.Add(ref x1, xStride);
        ref sbyte x3 = ref Unsafe.Add(ref x2, xStride);
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref w, b * KQuantFormats.Q6KBlockBytes);
            float d = KQuantDot.HalfToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref block, 208)));
            ref sbyte sc = ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref block, 192));
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (int h = 0; h < 2; h++)
            {
                var ql0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 64 * h));
                var ql1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 64 * h + 32));
                var qh = Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 128 + 32 * h)).AsUInt16();
                ref sbyte sh = ref Unsafe.Add(ref sc, 8 * h);
                int at = b * 256 + 128 * h;
                Rows(ref i0, ref i1, ref i2, ref i3, (ql0 & low) | (Avx2.ShiftLeftLogical(qh, 4).AsByte() & high),
                    ref x, ref x1, ref x2, ref x3, at, ref sh);
                Rows(ref i0, ref i1, ref i2, ref i3, (ql1 & low) | (Avx2.ShiftLeftLogical(qh, 2).AsByte() & high),
                    ref x, ref x1, ref x2, ref x3, at + 32, ref Unsafe.Add(ref sh, 2));
                Rows(ref i0, ref i1, ref i2, ref i3, (Avx2.ShiftRightLogical(ql0.AsUInt16(), 4).AsByte() & low) | (qh.AsByte() & high),
                    ref x, ref x1, ref x2, ref x3, at + 64, ref Unsafe.Add(ref sh, 4));
                Rows(ref i0, ref i1, ref i2, ref i3, (Avx2.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & low) | (Avx2.ShiftRightLogical(qh, 2).AsByte() & high),
                    ref x, ref x1, ref x2, ref x3, at + 96, ref Unsafe.Add(ref sh, 6));
            }
            var dv = Vector256.Create(d);
            ref short s16 = ref Unsafe.Add(ref sums16, b * 16);
            i0 -= KQuantDot.Q6KOffset(ref sc, ref s16);
            i1 -= KQuantDot.Q6KOffset(ref sc, ref Unsafe.Add(ref s16, sumsStride));
            i2 -= KQuantDot.Q6KOffset(ref sc, ref Unsafe.Add(ref s16, 2 * sumsStride));
            i3 -= KQuantDot.Q6KOffset(ref sc, ref Unsafe.Add(ref s16, 3 * sumsStride));
            a0 = MulAdd(Avx.ConvertToVector256Single(i0), dv, a0);
            a1 = MulAdd(Avx.ConvertToVector256Single(i1), dv, a1);
            a2 = MulAdd(Avx.ConvertToVector256Single(i2), dv, a2);
            a3 = MulAdd(Avx.ConvertToVector256Single(i3), dv, a3);
        }
        return Vector128.Create(Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
    }

    /// <summary>32 six-bit values q against the same 32 positions of the four rows, scaled by sc[0] (first 16), sc[1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows(ref Vector256<int> i0, ref Vector256<int> i1, ref Vector256<int> i2, ref Vector256<int> i3, Vector256<byte> q,
        ref sbyte x0, ref sbyte x1, ref sbyte x2, ref sbyte x3, int at, ref sbyte sc)
    {
        var scale = Vector256.Create(Vector128.Create((short)sc), Vector128.Create((short)Unsafe.Add(ref sc, 1)));
        i0 = ScaleAdd(i0, Avx2.MultiplyAddAdjacent(q, Vector256.LoadUnsafe(ref Unsafe.Add(ref x0, at))), scale);
        i1 = ScaleAdd(i1, Avx2.MultiplyAddAdjacent(q, Vector256.LoadUnsafe(ref Unsafe.Add(ref x1, at))), scale);
        i2 = ScaleAdd(i2, Avx2.MultiplyAddAdjacent(q, Vector256.LoadUnsafe(ref Unsafe.Add(ref x2, at))), scale);
        i3 = ScaleAdd(i3, Avx2.MultiplyAddAdjacent(q, Vector256.LoadUnsafe(ref Unsafe.Add(ref x3, at))), scale);
    }
}
