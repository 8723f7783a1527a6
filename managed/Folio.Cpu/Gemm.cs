using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu;

/// <summary>
/// y[r, o] = Σ_k x[r, k] · w[o, k] (+ bias[o]), with the weight packed by the backend in panels of 16 output
/// columns: panel p holds w[16p .. 16p+16, k] for k = 0 .. in, 16 floats per k, contiguous (the last panel
/// zero-padded), so a kernel's k loop streams one panel sequentially (see <see cref="Pack"/>). Every output element is one fused multiply-add chain over
/// k = 0, 1, … from zero, then + bias: a vector lane and the scalar remainder path compute it identically. So a
/// row's results are bit-identical alone or in any batch (batch invariance), and threads split output columns,
/// never a reduction.
/// Micro-kernels: up to 6 rows × 16 columns (12 accumulators; each weight vector serves the tile's rows, each
/// broadcast x 16 columns), the rows split into tiles as even as 6 allows, decode's one row a tile of one, a panel at
/// a time (a chunk's panels lie back to back, so decode reads them as one sequential stream), and scalar for the last
/// columns when out is not a multiple of 16. With AVX-512, groups of 8 and 4 rows run the 512-bit 8 × 32 and 4 × 32 tiles instead
/// (Gemm.Vector512.cs) and single rows a 512-bit 1 × 16 tile, the same chains in wider registers.
/// The panels start on a 64-byte boundary (<see cref="AlignedPanels{T}"/>), so a 512-bit load of one panel row is one cache
/// line. The 512-bit tiles that meet weights in memory prefetch ahead (software prefetch: hints that change no
/// arithmetic): the tiles of a column block's first row block the next k slice, each a share.
/// </summary>
internal static partial class Gemm
{
    private const int TileRows = 6;
    private const int TileCols = 16;
    /// <summary>The unit of a decode MatMul's column chunks (one to three rows): four panels.</summary>
    private const int DecodeChunkCols = 64;
    /// <summary>Columns per cache block: k × 128 weights (384 KiB at k = 768) stay in L2 for all row tiles.</summary>
    private const int BlockCols = 128;
    /// <summary>Rows that share one k slice of a 32-column tile's weights (the 512-bit tiles): 32 rows × KBlock of x
    /// (16 KiB) beside the slice's weights (16 KiB) fit L1.</summary>
    private const int RowBlock = 32;
    /// <summary>Floats ahead (4 KiB, the one-row tiles' distance) that a 256-bit column block's first row tile, reading
    /// its panels from memory as one stream, hints into L2.</summary>
    private const nuint StreamAhead = DecodeStreamHints.L2Ahead / sizeof(float);
    private const int KBlock = 128;
    /// <summary>The k slice of a GEMM with one row block (decode, ≤ 32 rows), whose every weight comes from memory: the
    /// slice being read, the next one prefetched into L1 and the rows' x slices (8 KiB each at 64) leave L1 room; at
    /// <see cref="KBlock"/> the three filled its 48 KiB (32-row model-order GEMMs ~1.08× slower; at 48, prefill's extra
    /// partial-sum traffic costs more than it gains; RESULTS.md).</summary>
    private const int StreamKBlock = 64;
    /// <summary>How many k slices ahead a one-row-block GEMM's tiles prefetch into L2 (beside the next slice into L1):
    /// 24 KiB of panels, ~3 µs of the tiles' FMAs. On the Zen 4 VM, whose 32-row steps stream weights at ~12 GB/s of a
    /// ~29 GB/s read bound, the L1 prefetch alone left the FMAs waiting (32-row model-order GEMMs ~1.04× slower; 2 and 4
    /// ahead measured the same as 3; RESULTS.md).</summary>
    private const int FarSlices = 3;
    /// <summary>The k slice of a GEMM with several row blocks (a prompt): <see cref="KBlock"/> where L1 holds the slice's
    /// weights and the block's x slice (16 KiB each) with room (the Intel VM's 48 KiB, where it was measured); on a
    /// smaller L1 the whole k, each tile's chains in registers from the first k to the last, the column block's panels
    /// and the row block's x read from L2. On the Zen 4-class VM (32 KiB) the slices filled L1 and the stored and
    /// reloaded partial sums cost more than they kept: 128-row model-order GEMMs (gemm-step) ran 1.03–1.05× faster
    /// whole (204–206 → 212–216 GFLOP/s of a 230 ceiling), 512 rows 1.06–1.07×, b8's 2,048-row prefill step
    /// 1.05–1.10× (bench/RESULTS.md).</summary>
    internal static readonly int PrefillKBlock = L1DataCache.Bytes is > 0 and < 48 * 1024 ? int.MaxValue : KBlock;

    /// <summary>Floats of a packed [out, in] weight: whole panels of 16 columns.</summary>
    public static int PackedLength(int outFeatures, int inFeatures) => checked((outFeatures + TileCols - 1) / TileCols * TileCols * inFeatures);

    public static void Pack(ReadOnlySpan<float> w, int outFeatures, int inFeatures, AlignedPanels<float> panels)
    {
        var packed = panels.Span;
        for (int o = 0; o < outFeatures; o++)
        {
            int panel = o / TileCols * inFeatures * TileCols + o % TileCols;
            for (int i = 0; i < inFeatures; i++)
                packed[panel + i * TileCols] = w[o * inFeatures + i];
        }
    }

    public static void Run(float[] x, int rows, int k, AlignedPanels<float> wt, int outCols, float[]? bias, float[] y, ParallelRunner runner) =>
        Run(x, rows, k, wt, outCols, bias, y, runner, PrefillKBlock);

    /// <summary><paramref name="prefillKBlock"/>: the k slice of a GEMM with several row blocks (<see cref="PrefillKBlock"/>
    /// on this CPU; tests run each on any CPU: the same bits either way).</summary>
    internal static void Run(float[] x, int rows, int k, AlignedPanels<float> wt, int outCols, float[]? bias, float[] y, ParallelRunner runner,
        int prefillKBlock)
    {
        // The 512-bit tiles read and write unchecked (see Put in Gemm.Vector512.cs): check every extent once here.
        if (x.Length < (long)rows * k || wt.Length < PackedLength(outCols, k) || y.Length < (long)rows * outCols || (bias is not null && bias.Length < outCols))
            throw new ArgumentException($"GEMM operands too short for [{rows}, {k}] x [{outCols}, {k}]");
        int chunks, perChunk;
        if (Wide && rows < 4)
        {
            // One to three rows (decode): chunks of whole 64 columns, ~16 a thread, so that the threads, claiming
            // chunks in turn, finish together.
            perChunk = DecodeChunkCols * Math.Max(1, outCols / (DecodeChunkCols * runner.Threads * 16));
        }
        else
        {
            chunks = Math.Max(1, Math.Min(runner.Threads * 4, outCols / (TileCols * 4)));
            perChunk = (outCols + chunks - 1) / chunks;
            int unit = Wide ? WideTileCols : TileCols;   // whole 512-bit tiles per chunk where they run
            perChunk = (perChunk + unit - 1) / unit * unit;
        }
        chunks = (outCols + perChunk - 1) / perChunk;
        long work = (long)rows * k * outCols;
        runner.For(chunks, work, new GemmJob(x, rows, k, wt, outCols, perChunk, bias, y, prefillKBlock), static (j, chunk) =>
        {
            int c0 = chunk * j.PerChunk;
            Columns(j.X, j.Rows, j.K, j.Wt, j.OutCols, c0, Math.Min(j.OutCols, c0 + j.PerChunk), j.Bias, j.Y, j.PrefillKBlock);
        });
    }

    private static void Columns(float[] x, int rows, int k, AlignedPanels<float> wt, int o, int c0, int c1, float[]? bias, float[] y, int prefillKBlock)
    {
        for (int cb = c0; cb < c1; cb += BlockCols)
        {
            int cEnd = Math.Min(c1, cb + BlockCols);
            int full = cEnd == o ? cb + (cEnd - cb) / TileCols * TileCols : cEnd;   // only the last panel can be partial
            if (Wide)
            {
                int r = rows / 4 * 4;
                // One row block (decode) streams its weights in short slices; several (a prompt) take prefillKBlock.
                if (r <= RowBlock)
                    Rows512<PrefetchFar>(x, 0, r, k, wt, o, cb, full, bias, y, StreamKBlock);
                else
                    for (int rb = 0; rb < r; rb += RowBlock)
                    {
                        int re = Math.Min(r, rb + RowBlock), kBlock = Math.Min(k, prefillKBlock);
                        if (rb == 0)
                            Rows512<Prefetch>(x, rb, re, k, wt, o, cb, full, bias, y, kBlock);
                        else
                            Rows512<NoPrefetch>(x, rb, re, k, wt, o, cb, full, bias, y, kBlock);
                    }
                // A panel at a time: a chunk's panels lie back to back, so decode reads one sequential stream.
                for (; r < rows; r++)
                    for (int c = cb; c < full; c += TileCols)
                        Tile1x16Wide(x, r, k, wt, o, c, bias, y);
            }
            else
            {
                // Row tiles as even as TileRows allows (32 rows: 6, 6, 5, 5, 5, 5), not 6s and single rows: a row
                // tile's chains overlap only as far as it has rows, and a lone row's two chains kept the FMA units
                // ~1/4 busy (32-row model-order GEMMs at 61 % of the 256-bit ceiling; RESULTS.md). Decode's one row
                // is a tile of one, a panel at a time: a chunk's panels lie back to back, one sequential stream. With
                // several tiles, the first meets the block's weights in memory and hints them ahead into L2; a lone
                // tile does so where DecodeStreamHints.On.
                int tiles = EvenRowTiles.Count(rows, TileRows);
                bool hintFirst = tiles > 1 || DecodeStreamHints.On;   // a lone tile (decode) hints where one-row tiles do
                for (int t = 0, r = 0; t < tiles; t++)
                {
                    int n = EvenRowTiles.Size(rows, tiles, t);
                    for (int c = cb; c < full; c += TileCols)
                        if (t == 0 && hintFirst)
                            RowTile<Prefetch>(n, x, r, k, wt, o, c, bias, y);
                        else
                            RowTile<NoPrefetch>(n, x, r, k, wt, o, c, bias, y);
                    r += n;
                }
            }
            for (int c = full; c < cEnd; c++)
                for (int rr = 0; rr < rows; rr++)
                    y[rr * o + c] = Element(x, rr, k, wt, o, c) + (bias?[c] ?? 0f);
        }
    }

    /// <summary>Rows [r0, r1) (a multiple of 4, at most <see cref="RowBlock"/>) over columns [c0, full): per 32-column
    /// tile, k in slices of <paramref name="kBlock"/> (<see cref="StreamKBlock"/> when it is the GEMM's only row block,
    /// else <see cref="PrefillKBlock"/>), each slice run by every 8- and 4-row tile of the block before the next
    /// (a <see cref="KBlock"/> slice's 16 KiB of weights and the block's x slice stay in L1; the chains continue from
    /// partial sums stored exactly, so the bits are a single pass's); then a last 16-column panel row by row.
    /// <typeparamref name="TPrefetch"/>: <see cref="PrefetchFar"/> for a GEMM's only row block,
    /// <see cref="Prefetch"/> for the first of several, <see cref="NoPrefetch"/> for the rest.</summary>
    private static void Rows512<TPrefetch>(float[] x, int r0, int r1, int k, AlignedPanels<float> wt, int o, int c0, int full, float[]? bias,
        float[] y, int kBlock)
        where TPrefetch : struct, IPrefetch
    {
        int wide = c0 + (full - c0) / WideTileCols * WideTileCols;
        int r8 = r0 + (r1 - r0) / 8 * 8;
        // The first row block of a column block meets its weights in memory: while it runs a slice, its tiles prefetch
        // the slice that comes next into L1, each tile a share of its k rows, so that the reads stream at an even rate
        // under the FMAs of the whole slice (one tile prefetching all of it issued ~256 lines within a quarter of the
        // slice's time, more than a core keeps in flight: 7–10 % slower model-order decode GEMMs; RESULTS.md). A
        // 32-row decode step meets all its weights so; later blocks of a prefill find them in L2 and prefetch nothing.
        int tiles = (r8 - r0) / 8 + (r8 < r1 ? 1 : 0);
        // The chains' partial sums between k slices: rows of 32 floats, contiguous (4 KiB for 32 rows). In y, o floats
        // apart, the rows of gate/up's o = 4,096 all fell on the same L1 sets (16 KiB apart): on the Zen 4 VM its
        // 32-row GEMMs ran 0.88× the other shapes' rate, and 1.00× with the scratch (RESULTS.md).
        Span<float> parts = stackalloc float[RowBlock * WideTileCols];
        ref float pr = ref MemoryMarshal.GetReference(parts);
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        for (int c = c0; c < wide; c += WideTileCols)
            for (int k0 = 0; k0 < k; k0 += kBlock)
            {
                int k1 = Math.Min(k, k0 + kBlock), t = 0;
                bool last = k1 == k;   // the slice that adds the bias and stores into y
                int stride = last ? o : WideTileCols;
                nuint near = SliceDistance(k, kBlock, k0, 1), far = TPrefetch.Far ? SliceDistance(k, kBlock, k0, FarSlices) : 0;
                for (int r = r0; r < r1; r += 8, t++)
                {
                    // Each tile prefetches a share of the slice's k rows: [pf0, pf1).
                    int pf0 = k0 + (k1 - k0) * t / tiles, pf1 = k0 + (k1 - k0) * (t + 1) / tiles;
                    ref float part = ref Unsafe.Add(ref pr, (r - r0) * WideTileCols);
                    ref float dst = ref last ? ref Unsafe.Add(ref yr, r * o + c) : ref part;
                    if (r < r8)
                        Tile8x32<TPrefetch>(x, r, k, k0, k1, wt, c, ref part, ref dst, stride, bias, pf0, pf1, near, far);
                    else
                        Tile4x32<TPrefetch>(x, r, k, k0, k1, wt, c, ref part, ref dst, stride, bias, pf0, pf1, near, far);
                }
            }
        for (int c = wide; c < full; c += TileCols)
            for (int r = r0; r < r1; r++)
                Tile16<OneRow, NoPrefetch>(x, r, k, wt, o, c, bias, y);
    }

    /// <summary>The reference for one element: the same fused chain every kernel lane computes.</summary>
    internal static float Element(float[] x, int r, int k, AlignedPanels<float> wt, int o, int c)
    {
        float acc = 0f;
        int panel = c / TileCols * k * TileCols + c % TileCols;
        for (int i = 0; i < k; i++)
            acc = MathF.FusedMultiplyAdd(x[r * k + i], wt[panel + i * TileCols], acc);
        return acc;
    }

    /// <summary>Unchecked for the reason given on the 512-bit Put (Gemm.Vector512.cs); <see cref="Run"/> checks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector256<float> acc, float[] y, int at, float[]? bias, int c)
    {
        if (bias is not null)
            acc += Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(bias), (nuint)c);
        acc.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(y), (nuint)at);
    }

    /// <summary>Rows r .. r + n − 1 (n from 1 to <see cref="TileRows"/>), columns c .. c + 15 with 256-bit vectors;
    /// <typeparamref name="TPrefetch"/>: <see cref="Prefetch"/> for a column block's first row tile, which meets its
    /// weights in memory, <see cref="NoPrefetch"/> for the others, which find them in L2.</summary>
    private static void RowTile<TPrefetch>(int n, float[] x, int r, int k, AlignedPanels<float> wt, int o, int c, float[]? bias, float[] y)
        where TPrefetch : struct, IPrefetch
    {
        switch (n)
        {
            case 6: Tile16<SixRows, TPrefetch>(x, r, k, wt, o, c, bias, y); break;
            case 5: Tile16<FiveRows, TPrefetch>(x, r, k, wt, o, c, bias, y); break;
            case 4: Tile16<FourRows, TPrefetch>(x, r, k, wt, o, c, bias, y); break;
            case 3: Tile16<ThreeRows, TPrefetch>(x, r, k, wt, o, c, bias, y); break;
            case 2: Tile16<TwoRows, TPrefetch>(x, r, k, wt, o, c, bias, y); break;
            default: Tile16<OneRow, TPrefetch>(x, r, k, wt, o, c, bias, y); break;
        }
    }

    /// <summary>Rows r .. r + TRows − 1 (at most 6: 12 accumulators, two weight vectors and a broadcast fill the 16
    /// registers), columns c .. c + 15 (one whole panel): each weight vector serves every row, each broadcast x both
    /// vectors of its row.</summary>
    private static unsafe void Tile16<TRows, TPrefetch>(float[] x, int r, int k, AlignedPanels<float> wt, int o, int c, float[]? bias, float[] y)
        where TRows : struct, IRowCount
        where TPrefetch : struct, IPrefetch
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float wr = ref wt.Base;
        nuint x0 = (nuint)(r * k), x1 = x0 + (nuint)k, x2 = x1 + (nuint)k, x3 = x2 + (nuint)k, x4 = x3 + (nuint)k, x5 = x4 + (nuint)k;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector256<float> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        nuint wo = (nuint)(c / TileCols * k * TileCols);
        for (int i = 0; i < k; i++, wo += TileCols)
        {
            if (TPrefetch.On && Sse.IsSupported)
                Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref wr, wo + StreamAhead)));
            var w0 = Vector256.LoadUnsafe(ref wr, wo);
            var w1 = Vector256.LoadUnsafe(ref wr, wo + 8);
            nuint ii = (nuint)i;
            var b = Vector256.Create(Unsafe.Add(ref xr, x0 + ii));
            a00 = Vector256.FusedMultiplyAdd(b, w0, a00); a01 = Vector256.FusedMultiplyAdd(b, w1, a01);
            if (TRows.Count < 2)
                continue;
            b = Vector256.Create(Unsafe.Add(ref xr, x1 + ii));
            a10 = Vector256.FusedMultiplyAdd(b, w0, a10); a11 = Vector256.FusedMultiplyAdd(b, w1, a11);
            if (TRows.Count < 3)
                continue;
            b = Vector256.Create(Unsafe.Add(ref xr, x2 + ii));
            a20 = Vector256.FusedMultiplyAdd(b, w0, a20); a21 = Vector256.FusedMultiplyAdd(b, w1, a21);
            if (TRows.Count < 4)
                continue;
            b = Vector256.Create(Unsafe.Add(ref xr, x3 + ii));
            a30 = Vector256.FusedMultiplyAdd(b, w0, a30); a31 = Vector256.FusedMultiplyAdd(b, w1, a31);
            if (TRows.Count < 5)
                continue;
            b = Vector256.Create(Unsafe.Add(ref xr, x4 + ii));
            a40 = Vector256.FusedMultiplyAdd(b, w0, a40); a41 = Vector256.FusedMultiplyAdd(b, w1, a41);
            if (TRows.Count < 6)
                continue;
            b = Vector256.Create(Unsafe.Add(ref xr, x5 + ii));
            a50 = Vector256.FusedMultiplyAdd(b, w0, a50); a51 = Vector256.FusedMultiplyAdd(b, w1, a51);
        }
        int y0 = r * o + c;
        Put(a00, y, y0, bias, c); Put(a01, y, y0 + 8, bias, c + 8); y0 += o;
        if (TRows.Count < 2)
            return;
        Put(a10, y, y0, bias, c); Put(a11, y, y0 + 8, bias, c + 8); y0 += o;
        if (TRows.Count < 3)
            return;
        Put(a20, y, y0, bias, c); Put(a21, y, y0 + 8, bias, c + 8); y0 += o;
        if (TRows.Count < 4)
            return;
        Put(a30, y, y0, bias, c); Put(a31, y, y0 + 8, bias, c + 8); y0 += o;
        if (TRows.Count < 5)
            return;
        Put(a40, y, y0, bias, c); Put(a41, y, y0 + 8, bias, c + 8); y0 += o;
        if (TRows.Count < 6)
            return;
        Put(a50, y, y0, bias, c); Put(a51, y, y0 + 8, bias, c + 8);
    }

    private readonly record struct GemmJob(float[] X, int Rows, int K, AlignedPanels<float> Wt, int OutCols, int PerChunk, float[]? Bias, float[] Y,
        int PrefillKBlock);
}
