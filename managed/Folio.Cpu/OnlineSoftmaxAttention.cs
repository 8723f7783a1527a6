using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu;

/// <summary>
/// One query row's attention for the query heads of one or more adjacent KV heads, in a single pass over the row's
/// positions in blocks of 16 (AVX-512, head size a multiple of 16; 64 columns at a time in registers where it is a multiple of 64). Per block and query head: the 16 partial-dot
/// vectors (q·k per 16 columns) are reduced by a transpose-add tree into one vector of the 16 scores (2 shuffles and
/// an add per pair instead of a horizontal sum each; with a head size a multiple of 64, a group's heads three at a time,
/// each K row loaded once for the three, <see cref="GroupScores3"/>); the scores stay a vector for the block max, the exp and the
/// running sum (online softmax: a head's V sums and running sum are rescaled when its max rises); then the block's V
/// rows are read once for up to four heads of a group, whose sums stay in registers across the block. K and V are
/// each read once, together, block by block (a block's rows of all the item's KV heads lie side by side in the cache).
/// Each query head's operations, and their order, depend only on the row's position count and the head size, never
/// on the batch, the cache layout, the thread or which other heads share the call: batch invariant.
/// </summary>
internal static partial class OnlineSoftmaxAttention
{
    /// <summary>Positions per block: one score vector.</summary>
    public const int Block = 16;

    /// <summary>Whether this kernel serves a head size on this machine (otherwise the two-pass path of AttentionMath).</summary>
    public static bool Supports(int headDim) => FastExp.IsSupported && headDim % 16 == 0;

    /// <summary>
    /// output[g·d ..] = softmax(q_g · K_h^T · scale) · V_h for the query heads g &lt; kvHeads · group (h = g / group).
    /// KV head h's K and V rows of position i start at slots[i] + h·d in keys and values; slots holds at least count
    /// entries rounded up to a multiple of 16, the extra ones any valid slot (their scores are masked to −∞ and their
    /// V rows never read). Refs unchecked: the caller guarantees kvHeads · d floats behind every slot in both arrays.
    /// </summary>
    public static void Run<T, TLoad>(ref T keys, ref T values, ReadOnlySpan<int> slots, int count, ReadOnlySpan<float> q,
        Span<float> output, int kvHeads, int group, int d, float scale)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        int heads = kvHeads * group;
        _ = slots[(count + Block - 1) / Block * Block - 1];
        Span<float> qs = Buffers.Query(heads * d);
        Span<float> sums = Buffers.Sums(heads * Block);
        Span<float> max = Buffers.Max(heads);
        Span<float> weights = stackalloc float[group * Block];
        Begin(q, qs, sums, max, output, heads, d, scale);
        ref float acc = ref MemoryMarshal.GetReference(output);
        ref int s0 = ref MemoryMarshal.GetReference(slots);
        int rowBytes = kvHeads * d * Unsafe.SizeOf<T>();
        // Items of several KV heads hint their blocks into L2 ahead of use (PrefetchBlock): the first before the
        // loop, each further one a KV head at a time while the block before it computes (Step).
        bool prefetch = kvHeads > 1;
        if (prefetch)
            PrefetchBlock(ref keys, ref values, ref s0, Math.Min(Block, count), rowBytes);
        for (int b = 0; b < count; b += Block)
        {
            int next = prefetch && b + Block < count ? Math.Min(Block, count - b - Block) : 0;
            Step<T, TLoad>(ref keys, ref values, ref Unsafe.Add(ref s0, b), Math.Min(Block, count - b), ref MemoryMarshal.GetReference(qs),
                ref MemoryMarshal.GetReference(sums), ref MemoryMarshal.GetReference(max), ref acc, ref MemoryMarshal.GetReference(weights),
                kvHeads, group, d, false, ref Unsafe.NullRef<float>(), next);
        }
        End(sums, output, output, heads, d);
    }

    /// <summary>
    /// Hints the K and V rows (rowBytes each) of n positions (slots at bs) into L2 ahead of their block: a block of
    /// a cache block's 16 positions is 8 KiB of K and of V (b8's four KV heads in bf16) at a place the block table
    /// picks, where the hardware prefetcher starts over, and a 32-sequence decode step meets its whole cache in
    /// memory (the weights streamed between its layers evict it from L3). The next block's rows go one KV head at a
    /// time, spread over the current block's heads (<see cref="Step"/>): on the Zen 4 VM, `attn-kernel 12 145 bf16`
    /// (a row's 145 positions from memory, one thread) took 16.2–17.7 µs a row against 18.2–21.4 with the whole next
    /// block hinted at once (whose 256 hints in a burst overrun the core's miss buffers; bench/RESULTS.md), into L1
    /// ~1.4× slower, two blocks ahead no better. Only in items of several KV heads (a step with rows enough to give
    /// each item all of a row's heads); batch 1's one-head items, 128-byte rows, stay as they were. Hints only: no
    /// arithmetic changes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchBlock<T>(ref T keys, ref T values, ref int bs, int n, int rowBytes) where T : unmanaged
    {
        for (int j = 0; j < n; j++)
        {
            ref byte k = ref Unsafe.As<T, byte>(ref Unsafe.Add(ref keys, Unsafe.Add(ref bs, j)));
            ref byte v = ref Unsafe.As<T, byte>(ref Unsafe.Add(ref values, Unsafe.Add(ref bs, j)));
            // Every line a row touches, whatever its alignment: each 64 bytes on, then its last byte.
            for (int o = 0; o < rowBytes; o += 64)
            {
                Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref k, o)));
                Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref v, o)));
            }
            Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref k, rowBytes - 1)));
            Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref v, rowBytes - 1)));
        }
    }

    /// <summary>One row's state before its first block: q scaled into qs (the scale folded into q once, one rounding
    /// per q element instead of one per score), sums zero, maxima −∞, acc (the V sums) zero.</summary>
    private static void Begin(ReadOnlySpan<float> q, Span<float> qs, Span<float> sums, Span<float> max, Span<float> acc,
        int heads, int d, float scale)
    {
        _ = q[heads * d - 1];
        _ = qs[heads * d - 1];
        _ = acc[heads * d - 1];
        ref float qr = ref MemoryMarshal.GetReference(qs);
        var vscale = Vector512.Create(scale);
        for (int i = 0; i < heads * d; i += 16)
            (Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(q), (nuint)i) * vscale).StoreUnsafe(ref qr, (nuint)i);
        sums.Clear();
        max.Fill(float.NegativeInfinity);
        acc.Slice(0, heads * d).Clear();
    }

    /// <summary>
    /// One block of n ≤ 16 positions (slots at bs) for one row's query heads: scores (or, scored, head g's at
    /// scores[16g ..], computed by <see cref="TransposedScores"/> to the same bits), the online-softmax update of
    /// their maxima (max), running sums (sums, 16 lanes a head) and V sums (acc), then the V rows; with next &gt; 0,
    /// the next block's first next positions' rows hinted into L2 a KV head at a time (<see cref="PrefetchBlock"/>).
    /// Refs unchecked: the callers check the spans behind them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<T, TLoad>(ref T keys, ref T values, ref int bs, int n, ref float qr, ref float sums0, ref float max,
        ref float acc, ref float w0, int kvHeads, int group, int d, bool scored, ref float scores, int next)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        var valid = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();
        for (int h = 0; h < kvHeads; h++)
        {
            ref T kh = ref Unsafe.Add(ref keys, h * d);
            if (next > 0)
                PrefetchBlock(ref kh, ref Unsafe.Add(ref values, h * d), ref Unsafe.Add(ref bs, Block), next, d * Unsafe.SizeOf<T>());
            // Scores of the group's heads three at a time where the head size allows (each K row loaded and widened once
            // for the three; the same bits), into w0 until their softmax below reads them.
            int threes = scored || d % 64 != 0 ? 0 : group / 3 * 3;
            for (int g = 0; g < threes; g += 3)
                GroupScores3<T, TLoad>(ref kh, ref bs, ref Unsafe.Add(ref qr, (h * group + g) * d), d, ref Unsafe.Add(ref w0, g * Block));
            for (int g = h * group; g < (h + 1) * group; g++)
            {
                var s = scored ? Vector512.LoadUnsafe(ref Unsafe.Add(ref scores, g * Block))
                    : g - h * group < threes ? Vector512.LoadUnsafe(ref Unsafe.Add(ref w0, (g - h * group) * Block))
                    : Scores<T, TLoad>(ref kh, ref bs, ref Unsafe.Add(ref qr, g * d), d);
                s = Vector512.ConditionalSelect(valid, s, Vector512.Create(float.NegativeInfinity));
                ref float mg = ref Unsafe.Add(ref max, g);
                float mOld = mg, mNew = Math.Max(mOld, HorizontalMax(s));
                ref float sum = ref Unsafe.Add(ref sums0, g * Block);
                if (mNew > mOld)
                {
                    // exp(−∞) = 0 on the first block: the zero sums stay zero.
                    mg = mNew;
                    var f = Vector512.Create(MathF.Exp(mOld - mNew));
                    (Vector512.LoadUnsafe(ref sum) * f).StoreUnsafe(ref sum);
                    ref float a = ref Unsafe.Add(ref acc, g * d);
                    for (int c = 0; c < d; c += 16)
                        (Vector512.LoadUnsafe(ref a, (nuint)c) * f).StoreUnsafe(ref a, (nuint)c);
                }
                var e = FastExp.Exp(s - Vector512.Create(mNew)) & valid;
                (Vector512.LoadUnsafe(ref sum) + e).StoreUnsafe(ref sum);
                e.StoreUnsafe(ref Unsafe.Add(ref w0, (g - h * group) * Block));
            }
            ref T vh = ref Unsafe.Add(ref values, h * d);
            if (d % 64 == 0)
            {
                for (int c = 0; c < d; c += 64)
                    for (int g = 0; g < group; g += 4)
                        AccumulateV<T, TLoad>(ref vh, ref bs, n, c, ref Unsafe.Add(ref w0, g * Block),
                            ref Unsafe.Add(ref acc, (h * group + g) * d + c), d, Math.Min(4, group - g));
            }
            else
            {
                for (int c = 0; c < d; c += 16)
                    for (int g = 0; g < group; g++)
                        AccumulateV16<T, TLoad>(ref vh, ref bs, n, c, ref Unsafe.Add(ref w0, g * Block), ref Unsafe.Add(ref acc, (h * group + g) * d + c));
            }
        }
    }

    /// <summary>Each head's V sums (acc) divided by its running sum, into output (which may be acc itself).</summary>
    private static void End(Span<float> sums, ReadOnlySpan<float> acc, Span<float> output, int heads, int d)
    {
        _ = sums[heads * Block - 1];
        _ = acc[heads * d - 1];
        _ = output[heads * d - 1];
        ref float a0 = ref MemoryMarshal.GetReference(acc);
        ref float o0 = ref MemoryMarshal.GetReference(output);
        for (int g = 0; g < heads; g++)
        {
            var inverse = Vector512.Create(1f / Vector512.Sum(Vector512.LoadUnsafe(ref sums[g * Block])));
            ref float a = ref Unsafe.Add(ref a0, g * d);
            ref float o = ref Unsafe.Add(ref o0, g * d);
            for (int c = 0; c < d; c += 16)
                (Vector512.LoadUnsafe(ref a, (nuint)c) * inverse).StoreUnsafe(ref o, (nuint)c);
        }
    }


    /// <summary>
    /// <see cref="Scores"/> of three query heads (q_i at q + i·d, head size a multiple of 64) into scores[16i ..]: per
    /// position, its K row's 64 columns loaded (and widened) once for the three partials, then each head's pair tree as
    /// a binary counter over the positions (pending pairs per level), which adds in <see cref="Scores64"/>'s order:
    /// the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GroupScores3<T, TLoad>(ref T keys, ref int bs, ref float q, int d, ref float scores)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        Vector512<float> s0 = default, s1 = default, s2 = default;
        for (int c = 0; c < d; c += 64)
        {
            ref float q0 = ref Unsafe.Add(ref q, c);
            ref float q1 = ref Unsafe.Add(ref q0, d);
            ref float q2 = ref Unsafe.Add(ref q1, d);
            Vector512<float> a1 = default, b1 = default, e1 = default, a2 = default, b2 = default, e2 = default;
            Vector512<float> a3 = default, b3 = default, e3 = default, a4 = default, b4 = default, e4 = default;
            for (int j = 0; j < Block; j++)
            {
                ref T k = ref Unsafe.Add(ref keys, Unsafe.Add(ref bs, j) + c);
                var k0 = TLoad.Load(ref k, 0);
                var k1 = TLoad.Load(ref k, 16);
                var k2 = TLoad.Load(ref k, 32);
                var k3 = TLoad.Load(ref k, 48);
                var a = Chain(ref q0, k0, k1, k2, k3);
                var b = Chain(ref q1, k0, k1, k2, k3);
                var e = Chain(ref q2, k0, k1, k2, k3);
                if ((j & 1) == 0) { a1 = a; b1 = b; e1 = e; continue; }
                a = PairInLanes(a1, a); b = PairInLanes(b1, b); e = PairInLanes(e1, e);
                if ((j & 2) == 0) { a2 = a; b2 = b; e2 = e; continue; }
                a = PairInLanes(a2, a); b = PairInLanes(b2, b); e = PairInLanes(e2, e);
                if ((j & 4) == 0) { a3 = a; b3 = b; e3 = e; continue; }
                a = PairChunks(a3, a); b = PairChunks(b3, b); e = PairChunks(e3, e);
                if ((j & 8) == 0) { a4 = a; b4 = b; e4 = e; continue; }
                a = PairChunks(a4, a); b = PairChunks(b4, b); e = PairChunks(e4, e);
                // Chunks of 64 in order: the first as it is (Scores: s = the first chunk's, then s += each next).
                if (c == 0) { s0 = a; s1 = b; s2 = e; }
                else { s0 += a; s1 += b; s2 += e; }
            }
        }
        s0.StoreUnsafe(ref scores);
        s1.StoreUnsafe(ref scores, Block);
        s2.StoreUnsafe(ref scores, 2 * Block);
    }

    /// <summary><see cref="Partial"/>'s chain, q from memory: q[0 .. 16) · k0, then q[16 ..] · k1 … fused in, in that order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Chain(ref float q, Vector512<float> k0, Vector512<float> k1, Vector512<float> k2, Vector512<float> k3)
    {
        var x = Vector512.LoadUnsafe(ref q) * k0;
        x = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref q, 16), k1, x);
        x = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref q, 32), k2, x);
        return Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref q, 48), k3, x);
    }

    /// <summary>The 16 scores q · K[slot_j] (j &lt; 16) of one block as one vector, 64 columns at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scores<T, TLoad>(ref T keys, ref int bs, ref float q, int d)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        if (d % 64 != 0)
            return ScoresAnyWidth<T, TLoad>(ref keys, ref bs, ref q, d);
        var s = Scores64<T, TLoad>(ref keys, ref bs, 0, ref q);
        for (int c = 64; c < d; c += 64)
            s += Scores64<T, TLoad>(ref keys, ref bs, c, ref Unsafe.Add(ref q, c));
        return s;
    }

    /// <summary>
    /// Columns c .. c + 63 of the 16 dots: per position a 16-lane partial (four FMAs), then a transpose-add tree:
    /// each level halves the vectors, pairing lanes 2i and 2i + 1 of two vectors, so lane j of the last holds
    /// position j's sum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scores64<T, TLoad>(ref T keys, ref int bs, int c, ref float q)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        var q0 = Vector512.LoadUnsafe(ref q, 0);
        var q1 = Vector512.LoadUnsafe(ref q, 16);
        var q2 = Vector512.LoadUnsafe(ref q, 32);
        var q3 = Vector512.LoadUnsafe(ref q, 48);
        var b0 = PairInLanes(PairInLanes(Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 0) + c, q0, q1, q2, q3), Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 1) + c, q0, q1, q2, q3)),
            PairInLanes(Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 2) + c, q0, q1, q2, q3), Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 3) + c, q0, q1, q2, q3)));
        var b1 = PairInLanes(PairInLanes(Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 4) + c, q0, q1, q2, q3), Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 5) + c, q0, q1, q2, q3)),
            PairInLanes(Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 6) + c, q0, q1, q2, q3), Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 7) + c, q0, q1, q2, q3)));
        var b2 = PairInLanes(PairInLanes(Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 8) + c, q0, q1, q2, q3), Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 9) + c, q0, q1, q2, q3)),
            PairInLanes(Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 10) + c, q0, q1, q2, q3), Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 11) + c, q0, q1, q2, q3)));
        var b3 = PairInLanes(PairInLanes(Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 12) + c, q0, q1, q2, q3), Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 13) + c, q0, q1, q2, q3)),
            PairInLanes(Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 14) + c, q0, q1, q2, q3), Partial<T, TLoad>(ref keys, Unsafe.Add(ref bs, 15) + c, q0, q1, q2, q3)));
        return PairChunks(PairChunks(b0, b1), PairChunks(b2, b3));
    }

    /// <summary>
    /// Head sizes a multiple of 16 but not of 64 (the small test models' 16): the same partial per position over d / 16
    /// vectors and the same tree, with the partials in a stack buffer instead of registers.
    /// </summary>
    private static Vector512<float> ScoresAnyWidth<T, TLoad>(ref T keys, ref int bs, ref float q, int d)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        Span<Vector512<float>> p = stackalloc Vector512<float>[Block];
        for (int j = 0; j < Block; j++)
        {
            ref T k = ref Unsafe.Add(ref keys, Unsafe.Add(ref bs, j));
            var x = Vector512.LoadUnsafe(ref q) * TLoad.Load(ref k, 0);
            for (int c = 16; c < d; c += 16)
                x = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref q, (nuint)c), TLoad.Load(ref k, (nuint)c), x);
            p[j] = x;
        }
        for (int j = 0; j < 8; j++)
            p[j] = PairInLanes(p[2 * j], p[2 * j + 1]);
        for (int j = 0; j < 4; j++)
            p[j] = PairInLanes(p[2 * j], p[2 * j + 1]);
        for (int j = 0; j < 2; j++)
            p[j] = PairChunks(p[2 * j], p[2 * j + 1]);
        p[0] = PairChunks(p[0], p[1]);
        return p[0];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Partial<T, TLoad>(ref T keys, int offset, Vector512<float> q0, Vector512<float> q1,
        Vector512<float> q2, Vector512<float> q3)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        ref T k = ref Unsafe.Add(ref keys, offset);
        var x = q0 * TLoad.Load(ref k, 0);
        x = Vector512.FusedMultiplyAdd(q1, TLoad.Load(ref k, 16), x);
        x = Vector512.FusedMultiplyAdd(q2, TLoad.Load(ref k, 32), x);
        return Vector512.FusedMultiplyAdd(q3, TLoad.Load(ref k, 48), x);
    }

    // The transpose-add tree, a level at a time. Each level adds adjacent pairs of what it is given, so a position's
    // 16 lanes are summed ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) + … in this fixed association, and its
    // lanes are placed so that three-operand shuffles serve every level: in-lane vshufps for levels 1 and 2, 128-bit
    // vshuff32x4 for levels 3 and 4 (no vpermt2ps, which overwrites a source: a register copy each). Positions
    // P0 … P15 enter level 1 in pairs (P0, P1), (P2, P3) …; level 1 gives, per 128-bit chunk k of (x, y),
    // [x4k + x4k+1, x4k+2 + x4k+3, y4k + y4k+1, y4k+2 + y4k+3]; level 2 of (P0, P1) and (P2, P3), in chunk k the four
    // positions' sums of lanes 4k … 4k + 3 in position order; level 3 of P0…3 and P4…7, chunks [lanes 0–7 of P0…3,
    // lanes 8–15 of P0…3, the same of P4…7]; level 4 of P0…7 and P8…15, lane j position j's whole sum. The same pairs
    // in the same order as the vpermt2ps tree this replaced: the same bits (bench/RESULTS.md).

    /// <summary>Levels 1 and 2: adjacent lanes of each 128-bit chunk of x, then of y, summed (vshufps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PairInLanes(Vector512<float> x, Vector512<float> y) =>
        Avx512F.Shuffle(x, y, 0x88) + Avx512F.Shuffle(x, y, 0xDD);

    /// <summary>Levels 3 and 4: chunks 0 + 1 and 2 + 3 of x, then of y, summed (vshuff32x4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> PairChunks(Vector512<float> x, Vector512<float> y) =>
        Avx512F.Shuffle4x128(x, y, 0x88) + Avx512F.Shuffle4x128(x, y, 0xDD);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HorizontalMax(Vector512<float> s)
    {
        var m8 = Vector256.MaxNative(s.GetLower(), s.GetUpper());
        var m4 = Vector128.MaxNative(m8.GetLower(), m8.GetUpper());
        m4 = Vector128.MaxNative(m4, Vector128.Shuffle(m4, Vector128.Create(2, 3, 0, 1)));
        m4 = Vector128.MaxNative(m4, Vector128.Shuffle(m4, Vector128.Create(1, 0, 3, 2)));
        return m4.ToScalar();
    }

    /// <summary>
    /// acc_h[c .. c + 63] += Σ_{j &lt; n} w_h[j] · V[slot_j + c ..] for heads h &lt; heads (1–4; w_h at h·16, acc_h at h·d):
    /// each V row loaded once for all of them, the sums in registers across the block, positions in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateV<T, TLoad>(ref T values, ref int bs, int n, int c, ref float w, ref float acc, int d, int heads)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        ref float acc1 = ref Unsafe.Add(ref acc, heads > 1 ? d : 0);
        ref float acc2 = ref Unsafe.Add(ref acc, heads > 2 ? 2 * d : 0);
        ref float acc3 = ref Unsafe.Add(ref acc, heads > 3 ? 3 * d : 0);
        Vector512<float> a0 = Vector512.LoadUnsafe(ref acc, 0), a1 = Vector512.LoadUnsafe(ref acc, 16),
            a2 = Vector512.LoadUnsafe(ref acc, 32), a3 = Vector512.LoadUnsafe(ref acc, 48);
        Vector512<float> b0 = Vector512.LoadUnsafe(ref acc1, 0), b1 = Vector512.LoadUnsafe(ref acc1, 16),
            b2 = Vector512.LoadUnsafe(ref acc1, 32), b3 = Vector512.LoadUnsafe(ref acc1, 48);
        Vector512<float> e0 = Vector512.LoadUnsafe(ref acc2, 0), e1 = Vector512.LoadUnsafe(ref acc2, 16),
            e2 = Vector512.LoadUnsafe(ref acc2, 32), e3 = Vector512.LoadUnsafe(ref acc2, 48);
        Vector512<float> f0 = Vector512.LoadUnsafe(ref acc3, 0), f1 = Vector512.LoadUnsafe(ref acc3, 16),
            f2 = Vector512.LoadUnsafe(ref acc3, 32), f3 = Vector512.LoadUnsafe(ref acc3, 48);
        for (int j = 0; j < n; j++)
        {
            ref T v = ref Unsafe.Add(ref values, Unsafe.Add(ref bs, j) + c);
            var v0 = TLoad.Load(ref v, 0);
            var v1 = TLoad.Load(ref v, 16);
            var v2 = TLoad.Load(ref v, 32);
            var v3 = TLoad.Load(ref v, 48);
            var x = Vector512.Create(Unsafe.Add(ref w, j));
            a0 = Vector512.FusedMultiplyAdd(x, v0, a0);
            a1 = Vector512.FusedMultiplyAdd(x, v1, a1);
            a2 = Vector512.FusedMultiplyAdd(x, v2, a2);
            a3 = Vector512.FusedMultiplyAdd(x, v3, a3);
            if (heads > 1)
            {
                x = Vector512.Create(Unsafe.Add(ref w, Block + j));
                b0 = Vector512.FusedMultiplyAdd(x, v0, b0);
                b1 = Vector512.FusedMultiplyAdd(x, v1, b1);
                b2 = Vector512.FusedMultiplyAdd(x, v2, b2);
                b3 = Vector512.FusedMultiplyAdd(x, v3, b3);
            }
            if (heads > 2)
            {
                x = Vector512.Create(Unsafe.Add(ref w, 2 * Block + j));
                e0 = Vector512.FusedMultiplyAdd(x, v0, e0);
                e1 = Vector512.FusedMultiplyAdd(x, v1, e1);
                e2 = Vector512.FusedMultiplyAdd(x, v2, e2);
                e3 = Vector512.FusedMultiplyAdd(x, v3, e3);
            }
            if (heads > 3)
            {
                x = Vector512.Create(Unsafe.Add(ref w, 3 * Block + j));
                f0 = Vector512.FusedMultiplyAdd(x, v0, f0);
                f1 = Vector512.FusedMultiplyAdd(x, v1, f1);
                f2 = Vector512.FusedMultiplyAdd(x, v2, f2);
                f3 = Vector512.FusedMultiplyAdd(x, v3, f3);
            }
        }
        // Stores of the unused heads' registers would land on head 0 (their refs alias it): highest first, head 0 last.
        if (heads > 3) { f0.StoreUnsafe(ref acc3, 0); f1.StoreUnsafe(ref acc3, 16); f2.StoreUnsafe(ref acc3, 32); f3.StoreUnsafe(ref acc3, 48); }
        if (heads > 2) { e0.StoreUnsafe(ref acc2, 0); e1.StoreUnsafe(ref acc2, 16); e2.StoreUnsafe(ref acc2, 32); e3.StoreUnsafe(ref acc2, 48); }
        if (heads > 1) { b0.StoreUnsafe(ref acc1, 0); b1.StoreUnsafe(ref acc1, 16); b2.StoreUnsafe(ref acc1, 32); b3.StoreUnsafe(ref acc1, 48); }
        a0.StoreUnsafe(ref acc, 0); a1.StoreUnsafe(ref acc, 16); a2.StoreUnsafe(ref acc, 32); a3.StoreUnsafe(ref acc, 48);
    }

    /// <summary>acc[c .. c + 15] += Σ_{j &lt; n} w[j] · V[slot_j + c ..] for one head (head sizes not a multiple of 64).</summary>
    private static void AccumulateV16<T, TLoad>(ref T values, ref int bs, int n, int c, ref float w, ref float acc)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        var a = Vector512.LoadUnsafe(ref acc);
        for (int j = 0; j < n; j++)
            a = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref w, j)),
                TLoad.Load(ref Unsafe.Add(ref values, Unsafe.Add(ref bs, j) + c), 0), a);
        a.StoreUnsafe(ref acc);
    }

    /// <summary>The scaled query heads of an item, per thread, grown to the largest group seen.</summary>
    private static class Buffers
    {
        [ThreadStatic] private static float[]? _query;
        [ThreadStatic] private static float[]? _sums;
        [ThreadStatic] private static float[]? _max;
        [ThreadStatic] private static float[]? _transposed;
        [ThreadStatic] private static float[]? _scored;
        [ThreadStatic] private static float[]? _acc;

        public static Span<float> Query(int length) =>
            ThreadBuffer.AtLeast(ref _query, length, 1024).AsSpan(0, length);

        public static Span<float> Sums(int length) =>
            ThreadBuffer.AtLeast(ref _sums, length, 1024).AsSpan(0, length);

        public static Span<float> Max(int length) =>
            ThreadBuffer.AtLeast(ref _max, length, 64).AsSpan(0, length);

        public static Span<float> Transposed(int length) =>
            ThreadBuffer.AtLeast(ref _transposed, length, 4096).AsSpan(0, length);

        public static Span<float> Acc(int length) =>
            ThreadBuffer.AtLeast(ref _acc, length, 4096).AsSpan(0, length);

        public static Span<float> Scored(int length) =>
            ThreadBuffer.AtLeast(ref _scored, length, 1024).AsSpan(0, length);
    }
}
