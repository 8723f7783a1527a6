using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu;

/// <summary>
/// The 16 scores of a block for many query vectors at once (a prompt tile's rows and heads), to the bits of
/// <see cref="OnlineSoftmaxAttention"/>'s per-row scores. There, position j's dot is 16 lane chains (lane l: q[c + l] ·
/// K_j[c + l], then a fused multiply-add for each further 16 columns of the chunk of 64, or of the whole head where
/// its size is not a multiple of 64), summed across lanes by a balanced pair tree (lanes 2i and 2i + 1 first), chunks
/// added in order. Here the block's K is transposed (16 positions side by side in each column's vector), so lane l's
/// chain for all 16 positions is one vector chain with q[c + l] broadcast, and the pair tree is plain vector adds: the
/// same operations on the same values in the same order, without the transpose-add tree's shuffles. Four query
/// vectors at a time share each column vector's load.
/// </summary>
internal static class TransposedScores
{
    private const int Block = OnlineSoftmaxAttention.Block;

    /// <summary>transposed[c·16 + j] = K[slot_j + c] (as fp32) for c &lt; d, j &lt; 16: one vector per column, 16 columns
    /// at a time by an in-register 16 × 16 transpose. Refs unchecked: d values behind each of the 16 slots, as the
    /// kernel's callers guarantee.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot from its first call: no tier-0 or OSR code
    public static void Transpose<T, TLoad>(ref T keys, ref int bs, int d, Span<float> transposed)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        _ = transposed[d * Block - 1];
        ref float t0 = ref MemoryMarshal.GetReference(transposed);
        Span<Vector512<float>> u = stackalloc Vector512<float>[Block];
        for (int c0 = 0; c0 < d; c0 += 16)
        {
            // Rows 4i .. 4i + 3: after the unpacks and shuffles, 128-bit lane L of u[4i + e] holds column 4L + e of
            // those four rows.
            for (int i = 0; i < 4; i++)
            {
                var r0 = TLoad.Load(ref Unsafe.Add(ref keys, Unsafe.Add(ref bs, 4 * i)), (nuint)c0);
                var r1 = TLoad.Load(ref Unsafe.Add(ref keys, Unsafe.Add(ref bs, 4 * i + 1)), (nuint)c0);
                var r2 = TLoad.Load(ref Unsafe.Add(ref keys, Unsafe.Add(ref bs, 4 * i + 2)), (nuint)c0);
                var r3 = TLoad.Load(ref Unsafe.Add(ref keys, Unsafe.Add(ref bs, 4 * i + 3)), (nuint)c0);
                Vector512<float> a = Avx512F.UnpackLow(r0, r1), b = Avx512F.UnpackHigh(r0, r1);
                Vector512<float> e = Avx512F.UnpackLow(r2, r3), f = Avx512F.UnpackHigh(r2, r3);
                u[4 * i] = Avx512F.Shuffle(a, e, 0x44);
                u[4 * i + 1] = Avx512F.Shuffle(a, e, 0xEE);
                u[4 * i + 2] = Avx512F.Shuffle(b, f, 0x44);
                u[4 * i + 3] = Avx512F.Shuffle(b, f, 0xEE);
            }
            // Column 4L + e: lane L of u[e], u[4 + e], u[8 + e], u[12 + e], gathered by two rounds of 128-bit shuffles.
            for (int e = 0; e < 4; e++)
            {
                var low01 = Avx512F.Shuffle4x128(u[e], u[4 + e], 0x44);
                var high01 = Avx512F.Shuffle4x128(u[e], u[4 + e], 0xEE);
                var low23 = Avx512F.Shuffle4x128(u[8 + e], u[12 + e], 0x44);
                var high23 = Avx512F.Shuffle4x128(u[8 + e], u[12 + e], 0xEE);
                ref float t = ref Unsafe.Add(ref t0, (c0 + e) * Block);
                Avx512F.Shuffle4x128(low01, low23, 0x88).StoreUnsafe(ref t);
                Avx512F.Shuffle4x128(low01, low23, 0xDD).StoreUnsafe(ref t, 4 * Block);
                Avx512F.Shuffle4x128(high01, high23, 0x88).StoreUnsafe(ref t, 8 * Block);
                Avx512F.Shuffle4x128(high01, high23, 0xDD).StoreUnsafe(ref t, 12 * Block);
            }
        }
    }

    /// <summary>scores[m·16 ..] = the block's 16 scores of query vector m (at qs[m·d ..]) for m &lt; vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(ReadOnlySpan<float> qs, ReadOnlySpan<float> transposed, int vectors, int d, Span<float> scores)
    {
        _ = qs[vectors * d - 1];
        _ = transposed[d * Block - 1];
        _ = scores[vectors * Block - 1];
        int chunk = d % 64 == 0 ? 64 : d;
        ref float q = ref MemoryMarshal.GetReference(qs);
        ref float kt = ref MemoryMarshal.GetReference(transposed);
        ref float s = ref MemoryMarshal.GetReference(scores);
        for (int m = 0; m < vectors; m += 4)
        {
            // The last group of four repeats vector m for the missing ones (their scores stored first, then m's).
            int n = Math.Min(4, vectors - m);
            ref float q0 = ref Unsafe.Add(ref q, m * d);
            ref float q1 = ref Unsafe.Add(ref q0, n > 1 ? d : 0);
            ref float q2 = ref Unsafe.Add(ref q0, n > 2 ? 2 * d : 0);
            ref float q3 = ref Unsafe.Add(ref q0, n > 3 ? 3 * d : 0);
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int c0 = 0; c0 < d; c0 += chunk)
            {
                // The pair tree as a binary counter over the lanes: p1 holds the pending even lane, p2 the pending
                // pair of pairs' left half, and so on; lane 15 completes the root.
                Vector512<float> p1a = default, p1b = default, p1c = default, p1d = default;
                Vector512<float> p2a = default, p2b = default, p2c = default, p2d = default;
                Vector512<float> p3a = default, p3b = default, p3c = default, p3d = default;
                Vector512<float> p4a = default, p4b = default, p4c = default, p4d = default;
                for (int l = 0; l < 16; l++)
                {
                    int c = c0 + l;
                    var k = Vector512.LoadUnsafe(ref kt, (nuint)(c * Block));
                    var a = Vector512.Create(Unsafe.Add(ref q0, c)) * k;
                    var b = Vector512.Create(Unsafe.Add(ref q1, c)) * k;
                    var e = Vector512.Create(Unsafe.Add(ref q2, c)) * k;
                    var f = Vector512.Create(Unsafe.Add(ref q3, c)) * k;
                    for (c += 16; c < c0 + chunk; c += 16)
                    {
                        k = Vector512.LoadUnsafe(ref kt, (nuint)(c * Block));
                        a = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref q0, c)), k, a);
                        b = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref q1, c)), k, b);
                        e = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref q2, c)), k, e);
                        f = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref q3, c)), k, f);
                    }
                    if ((l & 1) == 0) { p1a = a; p1b = b; p1c = e; p1d = f; continue; }
                    a = p1a + a; b = p1b + b; e = p1c + e; f = p1d + f;
                    if ((l & 2) == 0) { p2a = a; p2b = b; p2c = e; p2d = f; continue; }
                    a = p2a + a; b = p2b + b; e = p2c + e; f = p2d + f;
                    if ((l & 4) == 0) { p3a = a; p3b = b; p3c = e; p3d = f; continue; }
                    a = p3a + a; b = p3b + b; e = p3c + e; f = p3d + f;
                    if ((l & 8) == 0) { p4a = a; p4b = b; p4c = e; p4d = f; continue; }
                    a = p4a + a; b = p4b + b; e = p4c + e; f = p4d + f;
                    // Chunks in order: the first as it is (not 0 + it, which would turn a −0 into +0).
                    if (c0 == 0) { s0 = a; s1 = b; s2 = e; s3 = f; }
                    else { s0 += a; s1 += b; s2 += e; s3 += f; }
                }
            }
            ref float sm = ref Unsafe.Add(ref s, m * Block);
            if (n > 3) s3.StoreUnsafe(ref sm, 3 * Block);
            if (n > 2) s2.StoreUnsafe(ref sm, 2 * Block);
            if (n > 1) s1.StoreUnsafe(ref sm, Block);
            s0.StoreUnsafe(ref sm);
        }
    }
}
