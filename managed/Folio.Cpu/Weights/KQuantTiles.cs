using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Folio.Core.Compute;

namespace Folio.Cpu.Weights;

/// <summary>
/// The vector tiles of <see cref="KQuantGemm"/>: 1 or 4 activation rows × one 8-column panel of a
/// <see cref="KQuantWeight"/> part. Each 32-byte weight vector (4 inputs × 8 columns, <see cref="KQuantPanels"/>) is
/// unpacked once in registers and multiplied with each row's 4 broadcast activations by vpdpbusd (AVX-VNNI: unsigned
/// weight × signed x_q, 4 products summed into each int32 lane, no saturation) or, on AVX2 alone, vpmaddubsw (pairs to
/// int16: Q4_K's 8 pair sums per sub-block reach 8 · 2 · 15 · 127 = 30,480 &lt; 2^15, widened by the scale's vpmaddwd;
/// Q6_K's values up to 63 are widened per vector). Per sub-block the int32 sums are scaled by sc_j (vpmulld, or the
/// AVX2 vpmaddwd) into S; Q4_K's mins go through vpmaddwd of (m_2k, m_2k+1) with (X_2k, X_2k+1); Q6_K's − 32 is taken
/// out per sub-block as 32 · X16_j. All exact integers, then the fp32 steps of <see cref="KQuantGemm"/>'s comment.
/// Stores are unchecked (<see cref="KQuantGemm.RunQuantized"/> checks the extents once): a range check after the
/// loops would be a call, and the JIT keeps the accumulators in memory across any call.
/// </summary>
internal static class KQuantTiles
{
    internal interface IRows
    {
        static abstract int Count { get; }
    }

    internal struct One : IRows
    {
        public static int Count => 1;
    }

    internal struct Four : IRows
    {
        public static int Count => 4;
    }

    /// <summary>Rows r .. r + R.Count − 1 against panel <paramref name="p"/> of <paramref name="part"/>, writing its
    /// first <paramref name="cols"/> columns.</summary>
    internal static void Tile<R>(Int8Activations act, int r, KQuantWeight w, KQuantWeight.Part part, int p, int cols, float[]? bias, float[] y)
        where R : struct, IRows
    {
        if (part.Format == KQuantFormat.Q4K)
            Q4K<R>(act, r, w, part, p, cols, bias, y);
        else
            Q6K<R>(act, r, w, part, p, cols, bias, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q4K<R>(Int8Activations act, int r, KQuantWeight w, KQuantWeight.Part part, int p, int cols, float[]? bias, float[] y)
        where R : struct, IRows
    {
        int blocks = w.BlocksPerRow, groups = act.RowBytes / 32;
        ref byte pb0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(part.Panels), (nint)((long)p * blocks * KQuantPanels.Q4KBytes));
        ref sbyte x0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.Signed), (nint)((long)r * act.RowBytes));
        ref int gs0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.GroupSums), (nint)((long)r * groups));
        nint rb = act.RowBytes;
        var low = Vector256.Create((byte)0x0F);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < blocks; b++)
        {
            ref byte pb = ref Unsafe.Add(ref pb0, b * KQuantPanels.Q4KBytes);
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int j = 0; j < 8; j++)
            {
                Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
                for (int t = 0; t < 4; t++)
                {
                    var n = Vector256.LoadUnsafe(ref pb, (nuint)(128 * j + 32 * t));
                    var lo = n & low;
                    var hi = (n.AsUInt16() >> 4).AsByte() & low;
                    nint at = 256 * b + 32 * j + 8 * t;
                    i0 = Dot4(Dot4(i0, lo, X(ref x0, at)), hi, X(ref x0, at + 4));
                    if (R.Count > 1)
                    {
                        i1 = Dot4(Dot4(i1, lo, X(ref x0, rb + at)), hi, X(ref x0, rb + at + 4));
                        i2 = Dot4(Dot4(i2, lo, X(ref x0, 2 * rb + at)), hi, X(ref x0, 2 * rb + at + 4));
                        i3 = Dot4(Dot4(i3, lo, X(ref x0, 3 * rb + at)), hi, X(ref x0, 3 * rb + at + 4));
                    }
                }
                var sc = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref pb, (nuint)(KQuantPanels.Q4KScales + 8 * j)));
                s0 += Scale4(i0, sc);
                if (R.Count > 1)
                {
                    s1 += Scale4(i1, sc);
                    s2 += Scale4(i2, sc);
                    s3 += Scale4(i3, sc);
                }
            }
            var d = Vector256.LoadUnsafe(ref Unsafe.As<byte, float>(ref Unsafe.Add(ref pb, KQuantPanels.Q4KD)));
            var nm = Vector256.LoadUnsafe(ref Unsafe.As<byte, float>(ref Unsafe.Add(ref pb, KQuantPanels.Q4KNegMin)));
            var m01 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pb, KQuantPanels.Q4KMins));
            var m23 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pb, KQuantPanels.Q4KMins + 16));
            var m45 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pb, KQuantPanels.Q4KMins + 32));
            var m67 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pb, KQuantPanels.Q4KMins + 48));
            ref int g = ref Unsafe.Add(ref gs0, 8 * b);
            f0 = Fold(f0, s0, d, Mins(m01, m23, m45, m67, ref g), nm);
            if (R.Count > 1)
            {
                f1 = Fold(f1, s1, d, Mins(m01, m23, m45, m67, ref Unsafe.Add(ref g, groups)), nm);
                f2 = Fold(f2, s2, d, Mins(m01, m23, m45, m67, ref Unsafe.Add(ref g, 2 * groups)), nm);
                f3 = Fold(f3, s3, d, Mins(m01, m23, m45, m67, ref Unsafe.Add(ref g, 3 * groups)), nm);
            }
        }
        Store<R>(act, r, w, part, p, cols, bias, y, f0, f1, f2, f3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q6K<R>(Int8Activations act, int r, KQuantWeight w, KQuantWeight.Part part, int p, int cols, float[]? bias, float[] y)
        where R : struct, IRows
    {
        int blocks = w.BlocksPerRow, sixteens = act.RowBytes / 16;
        ref byte pb0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(part.Panels), (nint)((long)p * blocks * KQuantPanels.Q6KBytes));
        ref sbyte x0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.Signed), (nint)((long)r * act.RowBytes));
        ref short x16 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.Sums16), (nint)((long)r * sixteens));
        nint rb = act.RowBytes;
        var low = Vector256.Create((byte)0x0F);
        var top = Vector256.Create((byte)0x30);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int b = 0; b < blocks; b++)
        {
            ref byte pb = ref Unsafe.Add(ref pb0, b * KQuantPanels.Q6KBytes);
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int j = 0; j < 16; j++)
            {
                var na = Vector256.LoadUnsafe(ref pb, (nuint)(64 * j));
                var nb = Vector256.LoadUnsafe(ref pb, (nuint)(64 * j + 32));
                var h = Vector256.LoadUnsafe(ref pb, (nuint)(KQuantPanels.Q6KHighs + 32 * j)).AsUInt16();
                var v0 = (na & low) | ((h << 4).AsByte() & top);
                var v1 = ((na.AsUInt16() >> 4).AsByte() & low) | ((h << 2).AsByte() & top);
                var v2 = (nb & low) | (h.AsByte() & top);
                var v3 = ((nb.AsUInt16() >> 4).AsByte() & low) | ((h >> 2).AsByte() & top);
                var sc = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.As<byte, sbyte>(ref pb), (nuint)(KQuantPanels.Q6KScales + 8 * j)));
                nint at = 256 * b + 16 * j;
                int k = 16 * b + j;
                s0 += Avx2.MultiplyLow(Sixteen(v0, v1, v2, v3, ref Unsafe.Add(ref x0, at), Unsafe.Add(ref x16, k)), sc);
                if (R.Count > 1)
                {
                    s1 += Avx2.MultiplyLow(Sixteen(v0, v1, v2, v3, ref Unsafe.Add(ref x0, rb + at), Unsafe.Add(ref x16, sixteens + k)), sc);
                    s2 += Avx2.MultiplyLow(Sixteen(v0, v1, v2, v3, ref Unsafe.Add(ref x0, 2 * rb + at), Unsafe.Add(ref x16, 2 * sixteens + k)), sc);
                    s3 += Avx2.MultiplyLow(Sixteen(v0, v1, v2, v3, ref Unsafe.Add(ref x0, 3 * rb + at), Unsafe.Add(ref x16, 3 * sixteens + k)), sc);
                }
            }
            var d = Vector256.LoadUnsafe(ref Unsafe.As<byte, float>(ref Unsafe.Add(ref pb, KQuantPanels.Q6KD)));
            f0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s0), d, f0);
            if (R.Count > 1)
            {
                f1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s1), d, f1);
                f2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s2), d, f2);
                f3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s3), d, f3);
            }
        }
        Store<R>(act, r, w, part, p, cols, bias, y, f0, f1, f2, f3);
    }

    /// <summary>Four x_q (4 consecutive inputs of one row) in every int32 lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> X(ref sbyte x, nint at) => Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref x, at)))).AsSByte();

    /// <summary>acc + Σ nibble · x_q: vpdpbusd into int32 lanes with AVX-VNNI, else vpmaddubsw into the int16 halves of
    /// acc (Q4_K's sub-block fits, see the class comment). The JIT keeps one branch (IsSupported is a constant).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot4(Vector256<int> acc, Vector256<byte> q, Vector256<sbyte> x) =>
        AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, q, x) : (acc.AsInt16() + Avx2.MultiplyAddAdjacent(q, x)).AsInt32();

    /// <summary>A Q4_K sub-block's lane sums times sc_j, as int32: vpmulld, or (AVX2) vpmaddwd of the int16 halves with
    /// sc_j in both halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Scale4(Vector256<int> acc, Vector256<int> sc) =>
        AvxVnni.IsSupported ? Avx2.MultiplyLow(acc, sc) : Avx2.MultiplyAddAdjacent(acc.AsInt16(), (sc | (sc << 16)).AsInt16());

    /// <summary>Σ_j m_j · X_j over the super-block's 8 sub-blocks (X_j = the group sum / 8), per column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Mins(Vector256<short> m01, Vector256<short> m23, Vector256<short> m45, Vector256<short> m67, ref int g) =>
        (Avx2.MultiplyAddAdjacent(m01, Pair(ref g)) + Avx2.MultiplyAddAdjacent(m23, Pair(ref Unsafe.Add(ref g, 2))))
        + (Avx2.MultiplyAddAdjacent(m45, Pair(ref Unsafe.Add(ref g, 4))) + Avx2.MultiplyAddAdjacent(m67, Pair(ref Unsafe.Add(ref g, 6))));

    /// <summary>(X_2k, X_2k+1) as the int16 halves of every int32 lane; |X| ≤ 32 · 127.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Pair(ref int g) =>
        Vector256.Create(((g >> 3) & 0xFFFF) | ((Unsafe.Add(ref g, 1) >> 3) << 16)).AsInt16();

    /// <summary>acc = fma(S, d, acc), then fma(M, −dmin, acc).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold(Vector256<float> acc, Vector256<int> s, Vector256<float> d, Vector256<int> m, Vector256<float> negMin) =>
        Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(m), negMin, Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s), d, acc));

    /// <summary>Σ (q − 32) · x_q over a Q6_K sub-block of 16 inputs (4 value vectors), per column: products of the
    /// stored q (0..63), minus 32 · the row's sum of those 16 x_q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Sixteen(Vector256<byte> v0, Vector256<byte> v1, Vector256<byte> v2, Vector256<byte> v3, ref sbyte x, short sum16)
    {
        var acc = Vector256.Create(-32 * sum16);
        return Dot6(Dot6(Dot6(Dot6(acc, v0, X(ref x, 0)), v1, X(ref x, 4)), v2, X(ref x, 8)), v3, X(ref x, 12));
    }

    /// <summary>acc + Σ q · x_q for values up to 63: vpdpbusd, or vpmaddubsw widened at once by vpmaddwd (two int16 pair
    /// sums of up to 2 · 63 · 127 would not fit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot6(Vector256<int> acc, Vector256<byte> q, Vector256<sbyte> x) =>
        AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, q, x) : acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q, x), Vector256.Create((short)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<R>(Int8Activations act, int r, KQuantWeight w, KQuantWeight.Part part, int p, int cols, float[]? bias, float[] y,
        Vector256<float> f0, Vector256<float> f1, Vector256<float> f2, Vector256<float> f3) where R : struct, IRows
    {
        int c0 = part.FirstRow + p * KQuantWeight.PanelCols;
        ref float s = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.Scales), r);
        long at = (long)r * w.Rows + c0;
        Put(f0, s, bias, y, at, c0, cols);
        if (R.Count > 1)
        {
            Put(f1, Unsafe.Add(ref s, 1), bias, y, at + w.Rows, c0, cols);
            Put(f2, Unsafe.Add(ref s, 2), bias, y, at + 2L * w.Rows, c0, cols);
            Put(f3, Unsafe.Add(ref s, 3), bias, y, at + 3L * w.Rows, c0, cols);
        }
    }

    /// <summary>y[at .. at + cols) = scale · acc (+ bias[c0 ..]), unchecked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector256<float> acc, float scale, float[]? bias, float[] y, long at, int c0, int cols)
    {
        var v = Vector256.Create(scale) * acc;
        ref float dst = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(y), (nint)at);
        if (cols == KQuantWeight.PanelCols)
        {
            if (bias is not null)
                v += Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(bias), (nuint)c0);
            v.StoreUnsafe(ref dst);
            return;
        }
        // A part's partial last panel: bias and y only as far as its columns go.
        for (int c = 0; c < cols; c++)
        {
            float e = Unsafe.Add(ref Unsafe.As<Vector256<float>, float>(ref v), c);
            Unsafe.Add(ref dst, c) = bias is null ? e : e + Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(bias), c0 + c);
        }
    }
}
