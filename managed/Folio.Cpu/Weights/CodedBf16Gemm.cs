using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// y[r, o] = Σ_k x[r, k] · w[o, k] (+ bias[o]) with w a <see cref="CodedBf16Weight"/>: the very chains, and so the very
/// bits, of <see cref="HalfGemm{TPanel}"/> on the same bf16 weight. One row (batch-1 decode, where the step reads every
/// weight once and waits on memory): each k row of a panel decoded in registers into its 16 panel words, then the
/// 1 × 32 tile's two FMAs, a panel at a time (one sequential stream of 0.75 × the bytes). Several rows (small decode
/// batches, which wait on memory too; prefill and larger batches, bound by the FMAs): a block of up to
/// <see cref="BlockCols"/> columns decoded into a per-thread scratch of <see cref="HalfWeight"/> panels by a tile that
/// multiplies the first 8 (4 with 4 to 7 rows; all of 2 or 3) rows as it decodes, then <see cref="HalfGemm{TPanel}"/>'s
/// tiles run the other rows on the scratch.
/// </summary>
internal static class CodedBf16Gemm
{
    private const int TileCols = CodedBf16Weight.PanelCols;
    private const int Words = TileCols / 2;
    private const int BlockCols = 256;

    public const string KernelName = "bf16 weights in 12-bit exponent codes (lossless), decoded in registers (AVX-512 BW), fp32 FMA (Vector512; 1 × 32 a panel at a time for one row; for several, a tile decoding each panel as it multiplies 8 rows, the 16-bit panels' tiles for the rest)";

    public static void Run(float[] x, int rows, CodedBf16Weight w, float[]? bias, float[] y, ParallelRunner runner)
    {
        int outCols = w.Rows, k = w.Cols;
        if (x.Length < (long)rows * k || y.Length < (long)rows * outCols || (bias is not null && bias.Length < outCols))
            throw new ArgumentException($"GEMM operands too short for [{rows}, {k}] x [{outCols}, {k}]");
        (int chunks, int perChunk) = HalfGemm<Bf16Panel>.Chunks(outCols, runner.Threads);
        runner.For(chunks, (long)rows * k * outCols, new Job(x, rows, w, perChunk, bias, y), static (j, chunk) =>
        {
            int c0 = chunk * j.PerChunk, c1 = Math.Min(j.W.Rows, c0 + j.PerChunk);
            if (j.Rows == 1)
                Row(j.X, j.W, c0, c1, j.Bias, j.Y);
            else
                Blocks(j.X, j.Rows, j.W, c0, c1, j.Bias, j.Y);
        });
    }

    /// <summary>The one row over the panels in [c0, c1): whole panels by the tile, a partial last one element by element.</summary>
    private static void Row(float[] x, CodedBf16Weight w, int c0, int c1, float[]? bias, float[] y)
    {
        int full = c1 == w.Rows ? c0 + (c1 - c0) / TileCols * TileCols : c1;
        for (int c = c0; c < full; c += TileCols)
            Tile1x32(x, w, c, bias, y);
        for (int c = full; c < c1; c++)
            y[c] = HalfGemm<Bf16Panel>.Element(x, 0, w, c) + (bias?[c] ?? 0f);
    }

    /// <summary>
    /// The panel at column c for the one row: per group of 4 k rows, each row decoded and multiplied in k order (h: columns
    /// 0..15, l: 16..31, as <see cref="HalfGemm{TPanel}"/>'s 1 × 32 tile). Groups holding an exception row, and a
    /// last partial group, go row by row, an exception row's words read from the side table.
    /// </summary>
    private static void Tile1x32(float[] x, CodedBf16Weight w, int c, float[]? bias, float[] y)
    {
        int k = w.Cols, p = c / TileCols;
        bool hint = DecodeStreamHints.On;
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref byte g = ref Unsafe.Add(ref w.Groups.Base, (nint)(p * w.PanelBytes));
        var table = Vector512.LoadUnsafe(ref w.Tables[p * TileCols]);
        int e = w.ExceptionStart[p], eEnd = w.ExceptionStart[p + 1];
        int[] exceptionRows = w.ExceptionRows;
        int fullGroups = k / CodedBf16Weight.GroupRows;
        Vector512<float> h = default, l = default;
        // Runs of whole groups without exceptions in a loop that calls nothing (so its pointers stay in registers),
        // each exception's group between them.
        for (int gi = 0; gi < fullGroups;)
        {
            int stop = e < eEnd ? Math.Min(fullGroups, exceptionRows[e] / CodedBf16Weight.GroupRows) : fullGroups;
            (h, l) = Groups(ref Unsafe.Add(ref g, (nint)gi * CodedBf16Weight.GroupBytes), ref Unsafe.Add(ref xr, gi * CodedBf16Weight.GroupRows),
                stop - gi, table, h, l, hint);
            gi = stop;
            if (gi < fullGroups)
            {
                (h, l) = SlowGroup(ref Unsafe.Add(ref g, (nint)gi * CodedBf16Weight.GroupBytes), gi, k, table, w, ref e, eEnd, ref xr, h, l);
                gi++;
            }
        }
        g = ref Unsafe.Add(ref g, (nint)fullGroups * CodedBf16Weight.GroupBytes);
        if (fullGroups * CodedBf16Weight.GroupRows < k)
            (h, l) = SlowGroup(ref g, fullGroups, k, table, w, ref e, eEnd, ref xr, h, l);
        if (bias is not null)
        {
            h += Vector512.Create(bias.AsSpan(c, 16));
            l += Vector512.Create(bias.AsSpan(c + 16, 16));
        }
        h.CopyTo(y.AsSpan(c, 16));
        l.CopyTo(y.AsSpan(c + 16, 16));
    }

    /// <summary>count whole groups from g (x from xg), none holding an exception: each decoded in registers, then
    /// its 4 rows' FMAs in k order; hinted ahead where <paramref name="hint"/> (<see cref="DecodeStreamHints.On"/>).
    /// The caller reads that flag: a static read here put a class-initialisation call in this method, and with it
    /// the JIT kept h, l and the table in memory across the loop (a load and a store an iteration).</summary>
    private static unsafe (Vector512<float>, Vector512<float>) Groups(ref byte g, ref float xg, int count, Vector512<ushort> table,
        Vector512<float> h, Vector512<float> l, bool hint)
    {
        for (int i = 0; i < count; i++)
        {
            if (hint)
            {
                // The multi-row tile's hint (TileDecoding): 16 groups ahead into L1 read best here (8–64 groups tried, into L1 and L2).
                byte* ahead = (byte*)Unsafe.AsPointer(ref Unsafe.Add(ref g, PrefetchGroups * CodedBf16Weight.GroupBytes));
                Sse.Prefetch0(ahead);
                Sse.Prefetch0(ahead + 64);
                Sse.Prefetch0(ahead + 128);
            }
            var (v0, v1, v2, v3) = CodedBf16Weight.DecodeGroup(ref g, table);
            var b = Vector512.Create(xg);
            h = Vector512.FusedMultiplyAdd(b, Bf16Panel.High(v0), h); l = Vector512.FusedMultiplyAdd(b, Bf16Panel.Low(v0), l);
            b = Vector512.Create(Unsafe.Add(ref xg, 1));
            h = Vector512.FusedMultiplyAdd(b, Bf16Panel.High(v1), h); l = Vector512.FusedMultiplyAdd(b, Bf16Panel.Low(v1), l);
            b = Vector512.Create(Unsafe.Add(ref xg, 2));
            h = Vector512.FusedMultiplyAdd(b, Bf16Panel.High(v2), h); l = Vector512.FusedMultiplyAdd(b, Bf16Panel.Low(v2), l);
            b = Vector512.Create(Unsafe.Add(ref xg, 3));
            h = Vector512.FusedMultiplyAdd(b, Bf16Panel.High(v3), h); l = Vector512.FusedMultiplyAdd(b, Bf16Panel.Low(v3), l);
            g = ref Unsafe.Add(ref g, CodedBf16Weight.GroupBytes);
            xg = ref Unsafe.Add(ref xg, CodedBf16Weight.GroupRows);
        }
        return (h, l);
    }

    /// <summary>Group gi row by row (rows below k only), each exception row's words from the side table.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Vector512<float>, Vector512<float>) SlowGroup(ref byte g, int gi, int k, Vector512<ushort> table, CodedBf16Weight w,
        ref int e, int eEnd, ref float xr, Vector512<float> h, Vector512<float> l)
    {
        for (int r = 0; r < CodedBf16Weight.GroupRows; r++)
        {
            int i = gi * CodedBf16Weight.GroupRows + r;
            if (i >= k)
                break;
            Vector512<uint> v;
            if (e < eEnd && w.ExceptionRows[e] == i)
                v = Vector512.Create(w.ExceptionWords.AsSpan(e++ * Words, Words));
            else
                v = CodedBf16Weight.DecodeRow(ref g, r, table);
            var b = Vector512.Create(Unsafe.Add(ref xr, i));
            h = Vector512.FusedMultiplyAdd(b, Bf16Panel.High(v), h);
            l = Vector512.FusedMultiplyAdd(b, Bf16Panel.Low(v), l);
        }
        return (h, l);
    }

    /// <summary>
    /// Several rows over [c0, c1), in blocks of up to <see cref="BlockCols"/> columns: each whole panel of a block
    /// decoded into this thread's scratch by <see cref="TileDecoding"/> as it multiplies rows 0..7 (0..3 with 4 to 7
    /// rows, all of 2 or 3; so the coded bytes stream from memory while FMAs run), a partial last panel decoded alone
    /// first; then the other rows by <see cref="HalfGemm{TPanel}"/>'s tiles on the decoded block, into a scratch output
    /// placed in y with the bias (the one addition HalfGemm makes after the chain).
    /// </summary>
    private static void Blocks(float[] x, int rows, CodedBf16Weight w, int c0, int c1, float[]? bias, float[] y)
    {
        int k = w.Cols, o = w.Rows;
        int first = rows >= 8 ? 8 : rows >= 4 ? 4 : rows;
        for (int cb = c0; cb < c1; cb += BlockCols)
        {
            int n = Math.Min(c1, cb + BlockCols) - cb;
            int panels = (n + TileCols - 1) / TileCols;
            var scratch = Scratch.Panels((long)panels * k * Words);
            var block = HalfWeight.Over(scratch, n, k);
            float[] yb = Scratch.Output(rows * n);
            for (int q = 0; q < panels; q++)
            {
                var words = scratch.Span.Slice(q * k * Words, k * Words);
                if ((q + 1) * TileCols <= n)
                {
                    int p = cb / TileCols + q, c = q * TileCols;
                    bool keep = rows > first;
                    if (first == 8)
                        TileDecoding<EightRows>(x, w, p, words, keep, yb, n, c);
                    else if (first == 4)
                        TileDecoding<FourRows>(x, w, p, words, keep, yb, n, c);
                    else if (first == 3)
                        TileDecoding<ThreeRows>(x, w, p, words, keep, yb, n, c);
                    else
                        TileDecoding<TwoRows>(x, w, p, words, keep, yb, n, c);
                    continue;
                }
                DecodePanel(w, cb / TileCols + q, words);
                // A partial last panel's first rows, as HalfGemm computes a partial panel's elements.
                for (int c = q * TileCols; c < n; c++)
                    for (int r = 0; r < first; r++)
                        yb[r * n + c] = HalfGemm<Bf16Panel>.Element(x, r, block, c) + 0f;
            }
            HalfGemm<Bf16Panel>.Columns(x, first, rows, block, 0, n, null, yb);
            for (int r = 0; r < rows; r++)
            {
                var dst = y.AsSpan(r * o + cb, n);
                yb.AsSpan(r * n, n).CopyTo(dst);
                if (bias is not null)
                    for (int j = 0; j < n; j++)
                        dst[j] += bias[cb + j];
            }
        }
    }

    /// <summary>Groups of 4 k rows ahead that <see cref="TileDecoding"/> hints into L1 (3 KiB of codes).</summary>
    private const int PrefetchGroups = 16;

    /// <summary>
    /// Panel p decoded into words group by group (exception rows patched in from the side table) while rows 0 ..
    /// TRows − 1 are multiplied by it from there (L1, just stored): per k, the plain 8 × 32 (4 × 32) tile's loads,
    /// widenings and FMAs, in its order, so the same bits. Output: yb[r · n + c ..], those rows, columns c .. c + 31.
    /// Without <paramref name="keep"/> (no other rows will read the panel) only the groups it multiplies from memory
    /// (exceptions, a last partial group) are stored.
    /// </summary>
    private static unsafe void TileDecoding<TRows>(float[] x, CodedBf16Weight w, int p, Span<uint> words, bool keep, float[] yb, int n, int c)
        where TRows : struct, IRowCount
    {
        int k = w.Cols;
        _ = words[k * Words - 1];
        _ = x[(TRows.Count - 1) * k + k - 1];
        _ = yb[(TRows.Count - 1) * n + c + TileCols - 1];
        ref byte g = ref Unsafe.Add(ref w.Groups.Base, (nint)(p * w.PanelBytes));
        var table = Vector512.LoadUnsafe(ref w.Tables[p * TileCols]);
        ref uint dst = ref MemoryMarshal.GetReference(words);
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        int e = w.ExceptionStart[p], eEnd = w.ExceptionStart[p + 1];
        nuint ks = (nuint)k;
        Vector512<float> h0 = default, l0 = default, h1 = default, l1 = default, h2 = default, l2 = default, h3 = default, l3 = default;
        Vector512<float> h4 = default, l4 = default, h5 = default, l5 = default, h6 = default, l6 = default, h7 = default, l7 = default;
        int groups = w.GroupCount;
        for (int gi = 0; gi < groups; gi++, g = ref Unsafe.Add(ref g, CodedBf16Weight.GroupBytes))
        {
            // A hint, past the weight's end at its last panel: it reads nothing and cannot fault.
            byte* ahead = (byte*)Unsafe.AsPointer(ref Unsafe.Add(ref g, PrefetchGroups * CodedBf16Weight.GroupBytes));
            Sse.Prefetch0(ahead);
            Sse.Prefetch0(ahead + 64);
            Sse.Prefetch0(ahead + 128);
            int i0 = gi * CodedBf16Weight.GroupRows, rowsHere = Math.Min(CodedBf16Weight.GroupRows, k - i0);
            var (v0, v1, v2, v3) = CodedBf16Weight.DecodeGroup(ref g, table);
            ref uint d = ref Unsafe.Add(ref dst, i0 * Words);
            ref float xi = ref Unsafe.Add(ref xr, i0);
            if (rowsHere == CodedBf16Weight.GroupRows && (e == eEnd || w.ExceptionRows[e] >= i0 + CodedBf16Weight.GroupRows))
            {
                // A whole group without exceptions (nearly all): multiplied from the registers it was decoded into.
                if (keep)
                {
                    v0.StoreUnsafe(ref d);
                    v1.StoreUnsafe(ref d, Words);
                    v2.StoreUnsafe(ref d, 2 * Words);
                    v3.StoreUnsafe(ref d, 3 * Words);
                }
                Step<TRows>(v0, ref xi, ks, ref h0, ref l0, ref h1, ref l1, ref h2, ref l2, ref h3, ref l3, ref h4, ref l4, ref h5, ref l5, ref h6, ref l6, ref h7, ref l7);
                Step<TRows>(v1, ref Unsafe.Add(ref xi, 1), ks, ref h0, ref l0, ref h1, ref l1, ref h2, ref l2, ref h3, ref l3, ref h4, ref l4, ref h5, ref l5, ref h6, ref l6, ref h7, ref l7);
                Step<TRows>(v2, ref Unsafe.Add(ref xi, 2), ks, ref h0, ref l0, ref h1, ref l1, ref h2, ref l2, ref h3, ref l3, ref h4, ref l4, ref h5, ref l5, ref h6, ref l6, ref h7, ref l7);
                Step<TRows>(v3, ref Unsafe.Add(ref xi, 3), ks, ref h0, ref l0, ref h1, ref l1, ref h2, ref l2, ref h3, ref l3, ref h4, ref l4, ref h5, ref l5, ref h6, ref l6, ref h7, ref l7);
                continue;
            }
            // A group holding an exception row, or a last partial one: stored (rows past k are not: words holds k
            // rows), the exception rows patched in, then multiplied from the store.
            v0.StoreUnsafe(ref d);
            if (rowsHere > 1) v1.StoreUnsafe(ref d, Words);
            if (rowsHere > 2) v2.StoreUnsafe(ref d, 2 * Words);
            if (rowsHere > 3) v3.StoreUnsafe(ref d, 3 * Words);
            for (; e < eEnd && w.ExceptionRows[e] < i0 + CodedBf16Weight.GroupRows; e++)
                Vector512.Create(w.ExceptionWords.AsSpan(e * Words, Words)).StoreUnsafe(ref dst, (nuint)(w.ExceptionRows[e] * Words));
            for (int j = 0; j < rowsHere; j++)
                Step<TRows>(Vector512.LoadUnsafe(ref d, (nuint)(j * Words)), ref Unsafe.Add(ref xi, j), ks,
                    ref h0, ref l0, ref h1, ref l1, ref h2, ref l2, ref h3, ref l3, ref h4, ref l4, ref h5, ref l5, ref h6, ref l6, ref h7, ref l7);
        }
        ref float yr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(yb), c);
        h0.StoreUnsafe(ref yr); l0.StoreUnsafe(ref yr, 16); yr = ref Unsafe.Add(ref yr, n);
        if (TRows.Count < 2)
            return;
        h1.StoreUnsafe(ref yr); l1.StoreUnsafe(ref yr, 16); yr = ref Unsafe.Add(ref yr, n);
        if (TRows.Count < 3)
            return;
        h2.StoreUnsafe(ref yr); l2.StoreUnsafe(ref yr, 16); yr = ref Unsafe.Add(ref yr, n);
        if (TRows.Count < 4)
            return;
        h3.StoreUnsafe(ref yr); l3.StoreUnsafe(ref yr, 16); yr = ref Unsafe.Add(ref yr, n);
        if (TRows.Count < 8)
            return;
        h4.StoreUnsafe(ref yr); l4.StoreUnsafe(ref yr, 16); yr = ref Unsafe.Add(ref yr, n);
        h5.StoreUnsafe(ref yr); l5.StoreUnsafe(ref yr, 16); yr = ref Unsafe.Add(ref yr, n);
        h6.StoreUnsafe(ref yr); l6.StoreUnsafe(ref yr, 16); yr = ref Unsafe.Add(ref yr, n);
        h7.StoreUnsafe(ref yr); l7.StoreUnsafe(ref yr, 16);
    }

    /// <summary>One k step of <see cref="TileDecoding"/>: panel row v (columns 0..15 high, 16..31 low) times x[r, i]
    /// (xi at row 0's, rows ks apart) for its rows, as the plain tile does. Inlined: the accumulators stay in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TRows>(Vector512<uint> v, ref float xi, nuint ks,
        ref Vector512<float> h0, ref Vector512<float> l0, ref Vector512<float> h1, ref Vector512<float> l1,
        ref Vector512<float> h2, ref Vector512<float> l2, ref Vector512<float> h3, ref Vector512<float> l3,
        ref Vector512<float> h4, ref Vector512<float> l4, ref Vector512<float> h5, ref Vector512<float> l5,
        ref Vector512<float> h6, ref Vector512<float> l6, ref Vector512<float> h7, ref Vector512<float> l7)
        where TRows : struct, IRowCount
    {
        var wh = Bf16Panel.High(v);
        var wl = Bf16Panel.Low(v);
        var b = Vector512.Create(xi);
        h0 = Vector512.FusedMultiplyAdd(b, wh, h0); l0 = Vector512.FusedMultiplyAdd(b, wl, l0);
        if (TRows.Count < 2)
            return;
        b = Vector512.Create(Unsafe.Add(ref xi, ks));
        h1 = Vector512.FusedMultiplyAdd(b, wh, h1); l1 = Vector512.FusedMultiplyAdd(b, wl, l1);
        if (TRows.Count < 3)
            return;
        b = Vector512.Create(Unsafe.Add(ref xi, 2 * ks));
        h2 = Vector512.FusedMultiplyAdd(b, wh, h2); l2 = Vector512.FusedMultiplyAdd(b, wl, l2);
        if (TRows.Count < 4)
            return;
        b = Vector512.Create(Unsafe.Add(ref xi, 3 * ks));
        h3 = Vector512.FusedMultiplyAdd(b, wh, h3); l3 = Vector512.FusedMultiplyAdd(b, wl, l3);
        if (TRows.Count < 8)
            return;
        b = Vector512.Create(Unsafe.Add(ref xi, 4 * ks));
        h4 = Vector512.FusedMultiplyAdd(b, wh, h4); l4 = Vector512.FusedMultiplyAdd(b, wl, l4);
        b = Vector512.Create(Unsafe.Add(ref xi, 5 * ks));
        h5 = Vector512.FusedMultiplyAdd(b, wh, h5); l5 = Vector512.FusedMultiplyAdd(b, wl, l5);
        b = Vector512.Create(Unsafe.Add(ref xi, 6 * ks));
        h6 = Vector512.FusedMultiplyAdd(b, wh, h6); l6 = Vector512.FusedMultiplyAdd(b, wl, l6);
        b = Vector512.Create(Unsafe.Add(ref xi, 7 * ks));
        h7 = Vector512.FusedMultiplyAdd(b, wh, h7); l7 = Vector512.FusedMultiplyAdd(b, wl, l7);
    }

    /// <summary>Panel p's k rows as <see cref="HalfWeight"/> words (16 a row).</summary>
    internal static void DecodePanel(CodedBf16Weight w, int p, Span<uint> words)
    {
        int k = w.Cols;
        ref byte g = ref Unsafe.Add(ref w.Groups.Base, (nint)(p * w.PanelBytes));
        var table = Vector512.LoadUnsafe(ref w.Tables[p * TileCols]);
        ref uint dst = ref MemoryMarshal.GetReference(words);
        _ = words[k * Words - 1];
        for (int i = 0; i < k; i += CodedBf16Weight.GroupRows, g = ref Unsafe.Add(ref g, CodedBf16Weight.GroupBytes))
        {
            var (v0, v1, v2, v3) = CodedBf16Weight.DecodeGroup(ref g, table);
            // Rows past k (a last partial group) are not stored: words holds k rows.
            ref uint d = ref Unsafe.Add(ref dst, i * Words);
            v0.StoreUnsafe(ref d);
            if (i + 1 < k) v1.StoreUnsafe(ref d, Words);
            if (i + 2 < k) v2.StoreUnsafe(ref d, 2 * Words);
            if (i + 3 < k) v3.StoreUnsafe(ref d, 3 * Words);
        }
        for (int e = w.ExceptionStart[p]; e < w.ExceptionStart[p + 1]; e++)
            w.ExceptionWords.AsSpan(e * Words, Words).CopyTo(words.Slice(w.ExceptionRows[e] * Words, Words));
    }

    /// <summary>Per-thread scratch for <see cref="Blocks"/>, grown to the largest block seen.</summary>
    private static class Scratch
    {
        [ThreadStatic] private static AlignedPanels<uint>? _panels;
        [ThreadStatic] private static float[]? _output;

        public static AlignedPanels<uint> Panels(long length)
        {
            if (_panels is not { } p || p.Length < length)
                _panels = p = AlignedPanels<uint>.Allocate(length);
            return p;
        }

        public static float[] Output(int length) => ThreadBuffer.AtLeast(ref _output, length, 4096);
    }

    private readonly record struct Job(float[] X, int Rows, CodedBf16Weight W, int PerChunk, float[]? Bias, float[] Y);
}
