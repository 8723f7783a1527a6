using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Folio.Core.Compute;

namespace Folio.Cpu.Weights;

/// <summary>
/// The vector tiles of <see cref="KQuantGemm"/>: 1, 2 or 4 activation rows × one or two 8-column panels of a
/// <see cref="KQuantWeight"/> part (R and P, constants to the JIT, which drops the unused accumulators). Each 32-byte
/// weight vector (4 inputs × 8 columns, <see cref="KQuantPanels"/>) is unpacked once in registers and multiplied with each row's 4 broadcast activations by vpdpbusd (AVX-VNNI: unsigned
/// weight × signed x_q, 4 products summed into each int32 lane, no saturation) or, on AVX2 alone, vpmaddubsw (pairs to
/// int16: Q4_K's 8 pair sums per sub-block reach 8 · 2 · 15 · 127 = 30,480 &lt; 2^15, widened by the scale's vpmaddwd;
/// Q5_K's values up to 31 and Q6_K's up to 63 are widened per vector). Per sub-block the int32 sums are scaled by sc_j
/// (vpmulld, or Q4_K's AVX2 vpmaddwd) into S; Q4_K's and Q5_K's mins go through vpmaddwd of (m_2k, m_2k+1) with
/// (X_2k, X_2k+1); Q6_K's − 32 is taken
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

    internal struct Two : IRows
    {
        public static int Count => 2;
    }

    /// <summary>Rows r .. r + R.Count − 1 against panels p .. p + P.Count − 1 of <paramref name="part"/> (P.Count
    /// panels that the part holds).</summary>
    internal static void Tile<R, P>(Int8Activations act, int r, KQuantWeight w, KQuantWeight.Part part, int p, float[]? bias, float[] y)
        where R : struct, IRows where P : struct, IRows
    {
        if (part.Format == KQuantFormat.Q4K)
            Q4K<R, P, FourBits>(act, r, w, part, p, bias, y);
        else if (part.Format == KQuantFormat.Q5K)
            Q4K<R, P, FiveBits>(act, r, w, part, p, bias, y);
        else
            Q6K<R, P>(act, r, w, part, p, bias, y);
    }

    /// <summary><see cref="Q4K"/> on Q4_K panels.</summary>
    internal struct FourBits;

    /// <summary><see cref="Q4K"/> on Q5_K panels: each nibble vector gets its fifth bits (bit 4) from the sub-block's
    /// high vector, and the products are widened at once (Q6_K's <see cref="Dot6"/>: 8 pair sums of up to
    /// 2 · 31 · 127 would not fit int16).</summary>
    internal struct FiveBits;

    /// <summary>Bytes ahead that a one-row, one-panel tile prefetches its stream (a thread's panels lie back to back,
    /// so past a panel's end this is the next panel's start), as the int8 and int4 single-row tiles do.</summary>
    private const int PrefetchBytes = 4096;

    /// <summary>Hints the <paramref name="bytes"/> bytes <see cref="PrefetchBytes"/> past <paramref name="at"/> into L1:
    /// hints cannot fault, past the weight's end they read nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchAhead(ref byte at, int bytes)
    {
        for (int l = 0; l < bytes; l += 64)
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref at, PrefetchBytes + l)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q4K<R, P, F>(Int8Activations act, int r, KQuantWeight w, KQuantWeight.Part part, int p, float[]? bias, float[] y)
        where R : struct, IRows where P : struct, IRows where F : struct
    {
        bool five = typeof(F) == typeof(FiveBits);
        int blockBytes = five ? KQuantPanels.Q5KBytes : KQuantPanels.Q4KBytes;
        int blocks = w.BlocksPerRow, pairs = act.RowBytes / 64;
        nint ps = (nint)blocks * blockBytes;
        ref byte w0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(part.Panels), p * ps);
        ref sbyte x0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.Signed), (nint)r * act.RowBytes);
        ref int g0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.PairedGroupSums), (nint)r * pairs);
        ref float xs0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.Scales), (nint)r * blocks);   // a scale per block
        nint rb = act.RowBytes;
        var low = Vector256.Create((byte)0x0F);
        Vector256<float> f00 = default, f10 = default, f20 = default, f30 = default, f01 = default, f11 = default, f21 = default, f31 = default;
        for (int b = 0; b < blocks; b++)
        {
            ref byte blk = ref Unsafe.Add(ref w0, b * blockBytes);
            if (R.Count == 1 && P.Count == 1)
                PrefetchAhead(ref blk, blockBytes);
            ref sbyte xb = ref Unsafe.Add(ref x0, b * 256);
            Vector256<int> s00 = default, s10 = default, s20 = default, s30 = default, s01 = default, s11 = default, s21 = default, s31 = default;
            for (int j = 0; j < 8; j++)
            {
                Vector256<int> i00 = default, i10 = default, i20 = default, i30 = default, i01 = default, i11 = default, i21 = default, i31 = default;
                Vector256<ushort> f0 = default, f1 = default;
                if (five)
                {
                    f0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, KQuantPanels.Q5KHighs + 32 * j)).AsUInt16();
                    if (P.Count > 1)
                        f1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, ps + KQuantPanels.Q5KHighs + 32 * j)).AsUInt16();
                }
                for (int t = 0; t < 4; t++)
                {
                    nint o = 128 * j + 32 * t;
                    var n0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, o));
                    var l0 = n0 & low;
                    var h0 = (n0.AsUInt16() >> 4).AsByte() & low;
                    if (five)
                    {
                        l0 |= FifthBit(f0, 2 * t);
                        h0 |= FifthBit(f0, 2 * t + 1);
                    }
                    Vector256<byte> l1 = default, h1 = default;
                    if (P.Count > 1)
                    {
                        var n1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, ps + o));
                        l1 = n1 & low;
                        h1 = (n1.AsUInt16() >> 4).AsByte() & low;
                        if (five)
                        {
                            l1 |= FifthBit(f1, 2 * t);
                            h1 |= FifthBit(f1, 2 * t + 1);
                        }
                    }
                    ref sbyte xt = ref Unsafe.Add(ref xb, 32 * j + 8 * t);
                    var xa = X(ref xt, 0);
                    var xc = X(ref xt, 4);
                    i00 = Dot<F>(Dot<F>(i00, l0, xa), h0, xc);
                    if (P.Count > 1)
                        i01 = Dot<F>(Dot<F>(i01, l1, xa), h1, xc);
                    if (R.Count > 1)
                    {
                        xa = X(ref xt, rb);
                        xc = X(ref xt, rb + 4);
                        i10 = Dot<F>(Dot<F>(i10, l0, xa), h0, xc);
                        if (P.Count > 1)
                            i11 = Dot<F>(Dot<F>(i11, l1, xa), h1, xc);
                    }
                    if (R.Count > 2)
                    {
                        xa = X(ref xt, 2 * rb);
                        xc = X(ref xt, 2 * rb + 4);
                        i20 = Dot<F>(Dot<F>(i20, l0, xa), h0, xc);
                        if (P.Count > 1)
                            i21 = Dot<F>(Dot<F>(i21, l1, xa), h1, xc);
                        xa = X(ref xt, 3 * rb);
                        xc = X(ref xt, 3 * rb + 4);
                        i30 = Dot<F>(Dot<F>(i30, l0, xa), h0, xc);
                        if (P.Count > 1)
                            i31 = Dot<F>(Dot<F>(i31, l1, xa), h1, xc);
                    }
                }
                var sc0 = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, KQuantPanels.Q4KScales + 8 * j)));
                s00 += Scale<F>(i00, sc0);
                if (R.Count > 1)
                    s10 += Scale<F>(i10, sc0);
                if (R.Count > 2)
                {
                    s20 += Scale<F>(i20, sc0);
                    s30 += Scale<F>(i30, sc0);
                }
                if (P.Count > 1)
                {
                    var sc1 = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.Add(ref blk, ps + KQuantPanels.Q4KScales + 8 * j)));
                    s01 += Scale<F>(i01, sc1);
                    if (R.Count > 1)
                        s11 += Scale<F>(i11, sc1);
                    if (R.Count > 2)
                    {
                        s21 += Scale<F>(i21, sc1);
                        s31 += Scale<F>(i31, sc1);
                    }
                }
            }
            ref int g = ref Unsafe.Add(ref g0, 4 * b);
            ref float xs = ref Unsafe.Add(ref xs0, b);
            for (int q = 0; q < P.Count; q++)
            {
                ref byte pq = ref Unsafe.Add(ref blk, q * ps);
                var d = Vector256.LoadUnsafe(ref Unsafe.As<byte, float>(ref Unsafe.Add(ref pq, KQuantPanels.Q4KD)));
                var nm = Vector256.LoadUnsafe(ref Unsafe.As<byte, float>(ref Unsafe.Add(ref pq, KQuantPanels.Q4KNegMin)));
                var m01 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pq, KQuantPanels.Q4KMins));
                var m23 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pq, KQuantPanels.Q4KMins + 16));
                var m45 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pq, KQuantPanels.Q4KMins + 32));
                var m67 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref pq, KQuantPanels.Q4KMins + 48));
                if (q == 0)
                {
                    f00 = Fold(f00, s00, d, Mins(m01, m23, m45, m67, ref g), nm, xs);
                    if (R.Count > 1)
                        f10 = Fold(f10, s10, d, Mins(m01, m23, m45, m67, ref Unsafe.Add(ref g, pairs)), nm, Unsafe.Add(ref xs, blocks));
                    if (R.Count > 2)
                    {
                        f20 = Fold(f20, s20, d, Mins(m01, m23, m45, m67, ref Unsafe.Add(ref g, 2 * pairs)), nm, Unsafe.Add(ref xs, 2 * blocks));
                        f30 = Fold(f30, s30, d, Mins(m01, m23, m45, m67, ref Unsafe.Add(ref g, 3 * pairs)), nm, Unsafe.Add(ref xs, 3 * blocks));
                    }
                }
                else
                {
                    f01 = Fold(f01, s01, d, Mins(m01, m23, m45, m67, ref g), nm, xs);
                    if (R.Count > 1)
                        f11 = Fold(f11, s11, d, Mins(m01, m23, m45, m67, ref Unsafe.Add(ref g, pairs)), nm, Unsafe.Add(ref xs, blocks));
                    if (R.Count > 2)
                    {
                        f21 = Fold(f21, s21, d, Mins(m01, m23, m45, m67, ref Unsafe.Add(ref g, 2 * pairs)), nm, Unsafe.Add(ref xs, 2 * blocks));
                        f31 = Fold(f31, s31, d, Mins(m01, m23, m45, m67, ref Unsafe.Add(ref g, 3 * pairs)), nm, Unsafe.Add(ref xs, 3 * blocks));
                    }
                }
            }
        }
        Store<R>(act, r, w, part, p, bias, y, f00, f10, f20, f30);
        if (P.Count > 1)
            Store<R>(act, r, w, part, p + 1, bias, y, f01, f11, f21, f31);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Q6K<R, P>(Int8Activations act, int r, KQuantWeight w, KQuantWeight.Part part, int p, float[]? bias, float[] y)
        where R : struct, IRows where P : struct, IRows
    {
        int blocks = w.BlocksPerRow, sixteens = act.RowBytes / 16;
        nint ps = (nint)blocks * KQuantPanels.Q6KBytes;
        ref byte w0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(part.Panels), p * ps);
        ref sbyte x0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.Signed), (nint)r * act.RowBytes);
        ref int o0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.Q6KOffsets), (nint)r * sixteens);
        ref float xs0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.Scales), (nint)r * blocks);   // a scale per block
        nint rb = act.RowBytes;
        var low = Vector256.Create((byte)0x0F);
        var top = Vector256.Create((byte)0x30);
        Vector256<float> f00 = default, f10 = default, f20 = default, f30 = default, f01 = default, f11 = default, f21 = default, f31 = default;
        for (int b = 0; b < blocks; b++)
        {
            ref byte blk = ref Unsafe.Add(ref w0, b * KQuantPanels.Q6KBytes);
            if (R.Count == 1 && P.Count == 1)
                PrefetchAhead(ref blk, KQuantPanels.Q6KBytes);
            ref sbyte xb = ref Unsafe.Add(ref x0, b * 256);
            ref int ob = ref Unsafe.Add(ref o0, 16 * b);
            Vector256<int> s00 = default, s10 = default, s20 = default, s30 = default, s01 = default, s11 = default, s21 = default, s31 = default;
            for (int j = 0; j < 16; j++)
            {
                var (v0, v1, v2, v3) = Values(ref blk, j, low, top);
                var sc0 = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref blk, KQuantPanels.Q6KScales + 8 * j))));
                Vector256<byte> u0 = default, u1 = default, u2 = default, u3 = default;
                Vector256<int> sc1 = default;
                if (P.Count > 1)
                {
                    (u0, u1, u2, u3) = Values(ref Unsafe.Add(ref blk, ps), j, low, top);
                    sc1 = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.As<byte, sbyte>(ref Unsafe.Add(ref blk, ps + KQuantPanels.Q6KScales + 8 * j))));
                }
                ref sbyte xj = ref Unsafe.Add(ref xb, 16 * j);
                ref int oj = ref Unsafe.Add(ref ob, j);
                s00 += Avx2.MultiplyLow(Sixteen(v0, v1, v2, v3, ref xj, oj), sc0);
                if (P.Count > 1)
                    s01 += Avx2.MultiplyLow(Sixteen(u0, u1, u2, u3, ref xj, oj), sc1);
                if (R.Count > 1)
                {
                    ref sbyte x1 = ref Unsafe.Add(ref xj, rb);
                    int o1 = Unsafe.Add(ref oj, sixteens);
                    s10 += Avx2.MultiplyLow(Sixteen(v0, v1, v2, v3, ref x1, o1), sc0);
                    if (P.Count > 1)
                        s11 += Avx2.MultiplyLow(Sixteen(u0, u1, u2, u3, ref x1, o1), sc1);
                }
                if (R.Count > 2)
                {
                    ref sbyte x2 = ref Unsafe.Add(ref xj, 2 * rb);
                    int o2 = Unsafe.Add(ref oj, 2 * sixteens);
                    s20 += Avx2.MultiplyLow(Sixteen(v0, v1, v2, v3, ref x2, o2), sc0);
                    if (P.Count > 1)
                        s21 += Avx2.MultiplyLow(Sixteen(u0, u1, u2, u3, ref x2, o2), sc1);
                    ref sbyte x3 = ref Unsafe.Add(ref xj, 3 * rb);
                    int o3 = Unsafe.Add(ref oj, 3 * sixteens);
                    s30 += Avx2.MultiplyLow(Sixteen(v0, v1, v2, v3, ref x3, o3), sc0);
                    if (P.Count > 1)
                        s31 += Avx2.MultiplyLow(Sixteen(u0, u1, u2, u3, ref x3, o3), sc1);
                }
            }
            // acc = fma(S, d · x, acc), x the row's activation scale of this block.
            ref float xs = ref Unsafe.Add(ref xs0, b);
            var d0 = Vector256.LoadUnsafe(ref Unsafe.As<byte, float>(ref Unsafe.Add(ref blk, KQuantPanels.Q6KD)));
            f00 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s00), d0 * Vector256.Create(xs), f00);
            if (R.Count > 1)
                f10 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s10), d0 * Vector256.Create(Unsafe.Add(ref xs, blocks)), f10);
            if (R.Count > 2)
            {
                f20 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s20), d0 * Vector256.Create(Unsafe.Add(ref xs, 2 * blocks)), f20);
                f30 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s30), d0 * Vector256.Create(Unsafe.Add(ref xs, 3 * blocks)), f30);
            }
            if (P.Count > 1)
            {
                var d1 = Vector256.LoadUnsafe(ref Unsafe.As<byte, float>(ref Unsafe.Add(ref blk, ps + KQuantPanels.Q6KD)));
                f01 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s01), d1 * Vector256.Create(xs), f01);
                if (R.Count > 1)
                    f11 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s11), d1 * Vector256.Create(Unsafe.Add(ref xs, blocks)), f11);
                if (R.Count > 2)
                {
                    f21 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s21), d1 * Vector256.Create(Unsafe.Add(ref xs, 2 * blocks)), f21);
                    f31 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s31), d1 * Vector256.Create(Unsafe.Add(ref xs, 3 * blocks)), f31);
                }
            }
        }
        Store<R>(act, r, w, part, p, bias, y, f00, f10, f20, f30);
        if (P.Count > 1)
            Store<R>(act, r, w, part, p + 1, bias, y, f01, f11, f21, f31);
    }

    /// <summary>Sub-block j's four value vectors (inputs 16j + 4s .. + 3, s = 0..3) of a Q6_K panel block: a nibble
    /// and the two high bits (bits 2s of the high vector) moved to bits 4-5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte>, Vector256<byte>, Vector256<byte>, Vector256<byte>) Values(ref byte blk, int j, Vector256<byte> low, Vector256<byte> top)
    {
        var na = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, 64 * j));
        var nb = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, 64 * j + 32));
        var h = Vector256.LoadUnsafe(ref Unsafe.Add(ref blk, KQuantPanels.Q6KHighs + 32 * j)).AsUInt16();
        return ((na & low) | ((h << 4).AsByte() & top),
            ((na.AsUInt16() >> 4).AsByte() & low) | ((h << 2).AsByte() & top),
            (nb & low) | (h.AsByte() & top),
            ((nb.AsUInt16() >> 4).AsByte() & low) | ((h >> 2).AsByte() & top));
    }

    /// <summary>Four x_q (4 consecutive inputs of one row) in every int32 lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> X(ref sbyte x, nint at) => Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref x, at)))).AsSByte();

    /// <summary>acc + Σ nibble · x_q: vpdpbusd into int32 lanes with AVX-VNNI, else vpmaddubsw into the int16 halves of
    /// acc (Q4_K's sub-block fits, see the class comment). The JIT keeps one branch (IsSupported is a constant).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot4(Vector256<int> acc, Vector256<byte> q, Vector256<sbyte> x) =>
        AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, q, x) : (acc.AsInt16() + Avx2.MultiplyAddAdjacent(q, x)).AsInt32();

    /// <summary>Bit <paramref name="bit"/> of each byte of a Q5_K high vector, moved to bit 4 (a 16-bit shift: the
    /// mask keeps only the bit that came from the same byte).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> FifthBit(Vector256<ushort> high, int bit) =>
        (bit <= 4 ? high << (4 - bit) : high >> (bit - 4)).AsByte() & Vector256.Create((byte)0x10);

    /// <summary>Q4_K's <see cref="Dot4"/> or Q5_K's <see cref="Dot6"/> (values to 31: widened at once).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot<F>(Vector256<int> acc, Vector256<byte> q, Vector256<sbyte> x) where F : struct =>
        typeof(F) == typeof(FiveBits) ? Dot6(acc, q, x) : Dot4(acc, q, x);

    /// <summary>A sub-block's sums times sc_j: Q4_K's <see cref="Scale4"/>, or vpmulld of Q5_K's int32 sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Scale<F>(Vector256<int> acc, Vector256<int> sc) where F : struct =>
        typeof(F) == typeof(FiveBits) ? Avx2.MultiplyLow(acc, sc) : Scale4(acc, sc);

    /// <summary>A Q4_K sub-block's lane sums times sc_j, as int32: vpmulld, or (AVX2) vpmaddwd of the int16 halves with
    /// sc_j in both halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Scale4(Vector256<int> acc, Vector256<int> sc) =>
        AvxVnni.IsSupported ? Avx2.MultiplyLow(acc, sc) : Avx2.MultiplyAddAdjacent(acc.AsInt16(), (sc | (sc << 16)).AsInt16());

    /// <summary>Σ_j m_j · X_j over the super-block's 8 sub-blocks per column, X_j = Σ x_q over sub-block j, from the
    /// row's <see cref="Int8Activations.PairedGroupSums"/> (X_2k, X_2k+1 in one int) at <paramref name="g"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Mins(Vector256<short> m01, Vector256<short> m23, Vector256<short> m45, Vector256<short> m67, ref int g) =>
        (Avx2.MultiplyAddAdjacent(m01, Vector256.Create(g).AsInt16()) + Avx2.MultiplyAddAdjacent(m23, Vector256.Create(Unsafe.Add(ref g, 1)).AsInt16()))
        + (Avx2.MultiplyAddAdjacent(m45, Vector256.Create(Unsafe.Add(ref g, 2)).AsInt16()) + Avx2.MultiplyAddAdjacent(m67, Vector256.Create(Unsafe.Add(ref g, 3)).AsInt16()));

    /// <summary>acc = fma(S, d · x, acc), then fma(M, −dmin · x, acc), x the row's activation scale of this block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fold(Vector256<float> acc, Vector256<int> s, Vector256<float> d, Vector256<int> m, Vector256<float> negMin, float x)
    {
        var scale = Vector256.Create(x);
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(m), negMin * scale, Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(s), d * scale, acc));
    }

    /// <summary>Σ (q − 32) · x_q over a Q6_K sub-block of 16 inputs (4 value vectors), per column: products of the
    /// stored q (0..63), started from −32 · the row's sum of those 16 x_q (<see cref="Int8Activations.Q6KOffsets"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Sixteen(Vector256<byte> v0, Vector256<byte> v1, Vector256<byte> v2, Vector256<byte> v3, ref sbyte x, int offset)
    {
        var acc = Vector256.Create(offset);
        return Dot6(Dot6(Dot6(Dot6(acc, v0, X(ref x, 0)), v1, X(ref x, 4)), v2, X(ref x, 8)), v3, X(ref x, 12));
    }

    /// <summary>acc + Σ q · x_q for values up to 63: vpdpbusd, or vpmaddubsw widened at once by vpmaddwd (two int16 pair
    /// sums of up to 2 · 63 · 127 would not fit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot6(Vector256<int> acc, Vector256<byte> q, Vector256<sbyte> x) =>
        AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, q, x) : acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q, x), Vector256.Create((short)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<R>(Int8Activations act, int r, KQuantWeight w, KQuantWeight.Part part, int p, float[]? bias, float[] y,
        Vector256<float> f0, Vector256<float> f1, Vector256<float> f2, Vector256<float> f3) where R : struct, IRows
    {
        int c0 = part.FirstRow + p * KQuantWeight.PanelCols, cols = Math.Min(KQuantWeight.PanelCols, part.Rows - p * KQuantWeight.PanelCols);
        long at = (long)r * w.Rows + c0;
        Put(f0, bias, y, at, c0, cols);
        if (R.Count > 1)
            Put(f1, bias, y, at + w.Rows, c0, cols);
        if (R.Count > 2)
        {
            Put(f2, bias, y, at + 2L * w.Rows, c0, cols);
            Put(f3, bias, y, at + 3L * w.Rows, c0, cols);
        }
    }

    /// <summary>y[at .. at + cols) = acc (+ bias[c0 ..]), unchecked (the activations' block scales are in acc).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector256<float> acc, float[]? bias, float[] y, long at, int c0, int cols)
    {
        var v = acc;
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
