using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Folio.Cpu.Weights;

/// <summary>
/// y[r, o] = Σ_k x[r, k] · w[o, k] (+ bias[o]) with w a <see cref="HalfWeight"/>: each 32-column panel row is one
/// 512-bit load widened to two fp32 vectors in registers (<typeparamref name="TPanel"/>: columns 0..15, 16..31),
/// then the same fused multiply-add chains as the fp32 <see cref="Gemm"/>: every element is one FMA chain over
/// k = 0, 1, … from zero, then + bias. A widened 16-bit value is exactly the fp32 value the checkpoint meant, so for
/// a bf16/fp16 checkpoint this gives the very bits the fp32 path gives for it (and the same batch invariance: one
/// row and a batch run different tiles, the same chains), reading half the bytes.
/// Tiles, in Vector512 where it is hardware-accelerated (<see cref="Wide"/>), rows in blocks of 32: in a MatMul of at
/// most 64 rows (decode), a block of 16 or more rows widens each panel's k slice once into an L1 scratch and runs
/// 8 × 32 / 4 × 32 tiles on it as the fp32 tiles do (HalfGemm.Widened.cs); other blocks run 8 × 32 / 4 × 32 tiles that widen in registers (one load and
/// two widening ops per k serve 8 or 4 rows; HalfGemm.Tiles.cs); 1 row × 32, a panel at a time, for decode and leftover rows. Without it (AVX2-only CPUs, and NativeAOT builds for x86-64-v3) Vector512 would be computed
/// in 256-bit halves and 8 × 32 would spill, so the 256-bit tiles run instead (HalfGemm.Tiles256.cs): 6 rows × 16
/// over half a panel, 1 × 32 in 8-lane steps. Scalar for the columns of a partial last panel. Every tile
/// gives each element the same chain, so both sets give the same bits.
/// </summary>
internal static partial class HalfGemm<TPanel> where TPanel : struct, IHalfPanel
{
    private const int TileCols = HalfWeight.PanelCols;
    private const int Words = TileCols / 2;
    /// <summary>Columns per cache block: k × 256 × 2 bytes of weights (384 KiB at k = 768) stay in L2 for all row tiles.</summary>
    private const int BlockCols = 256;
    /// <summary>Rows that share one widened k slice of a panel (HalfGemm.Widened.cs): 32 rows × KBlock of x (16 KiB)
    /// beside the slice widened to fp32 (16 KiB) fit L1.</summary>
    private const int RowBlock = 32;
    private const int KBlock = 128;

    /// <summary>Whether the 512-bit tiles run (a CPU with AVX-512 and a runtime that compiles Vector512 natively).</summary>
    private static bool Wide => Vector512.IsHardwareAccelerated;

    public static void Run(float[] x, int rows, HalfWeight w, float[]? bias, float[] y, ParallelRunner runner) =>
        Run(x, rows, w, bias, y, runner, Wide, DecodeWidensToScratch);

    /// <summary><paramref name="wide"/>: the 512-bit tiles, else the 256-bit ones (tests run both on any CPU:
    /// the one not native to it is emulated by .NET with the same bits); <paramref name="widenToScratch"/>: whether a
    /// decode block of 16 or more rows takes the widened-slice tiles (HalfGemm.Widened.cs; the same bits either way).</summary>
    internal static void Run(float[] x, int rows, HalfWeight w, float[]? bias, float[] y, ParallelRunner runner, bool wide,
        bool widenToScratch)
    {
        int outCols = w.Rows, k = w.Cols;
        // The tiles read and write unchecked (see Put): check every extent once here.
        if (x.Length < (long)rows * k || w.Words.Length < (long)(outCols + TileCols - 1) / TileCols * k * Words
            || y.Length < (long)rows * outCols || (bias is not null && bias.Length < outCols))
            throw new ArgumentException($"GEMM operands too short for [{rows}, {k}] x [{outCols}, {k}]");
        (int chunks, int perChunk) = Chunks(outCols, runner.Threads);
        long work = (long)rows * k * outCols;
        runner.For(chunks, work, new Job(x, rows, w, perChunk, bias, y, wide, widenToScratch), static (j, chunk) =>
        {
            int c0 = chunk * j.PerChunk;
            Columns(j.X, j.Rows, j.W, c0, Math.Min(j.W.Rows, c0 + j.PerChunk), j.Bias, j.Y, j.Wide, j.WidenToScratch);
        });
    }

    /// <summary>The column chunks a MatMul's items take: about 4 a thread, whole 32-column panels each (coded bf16
    /// weights, whose panels have the same columns, split the same way).</summary>
    internal static (int Chunks, int PerChunk) Chunks(int outCols, int threads)
    {
        int chunks = Math.Max(1, Math.Min(threads * 4, outCols / (TileCols * 2)));
        int perChunk = (outCols + chunks - 1) / chunks;
        perChunk = (perChunk + TileCols - 1) / TileCols * TileCols;   // whole panels per chunk
        return ((outCols + perChunk - 1) / perChunk, perChunk);
    }

    /// <summary>Output columns [c0, c1) of rows [r0, rows), on the calling thread, with this machine's tiles.</summary>
    internal static void Columns(float[] x, int r0, int rows, HalfWeight w, int c0, int c1, float[]? bias, float[] y) =>
        Columns(x, rows, w, c0, c1, bias, y, Wide, DecodeWidensToScratch, r0);

    private static void Columns(float[] x, int rows, HalfWeight w, int c0, int c1, float[]? bias, float[] y, bool wide, bool widenToScratch,
        int r0 = 0)
    {
        int o = w.Rows, k = w.Cols;
        AlignedPanels<uint> wt = w.Words;
        for (int cb = c0; cb < c1; cb += BlockCols)
        {
            int cEnd = Math.Min(c1, cb + BlockCols);
            int full = cEnd == o ? cb + (cEnd - cb) / TileCols * TileCols : cEnd;   // only the last panel can be partial
            int r = r0;
            if (wide)
            {
                r = r0 + (rows - r0) / 4 * 4;
                for (int rb = r0; rb < r; rb += RowBlock)
                {
                    int re = Math.Min(r, rb + RowBlock);
                    if (widenToScratch && re - rb >= WidenRows && rows <= WidenMaxRows)
                        Rows512Widened(x, rb, re, k, wt, o, cb, full, bias, y);
                    else
                        Rows512(x, rb, re, k, wt, o, cb, full, bias, y);
                }
                // Single rows a panel at a time: a chunk's panels lie back to back, so batch-1 decode reads them as
                // one sequential stream (two panels at a time, two streams 48 KiB apart at k = 768, read 5–18 % slower in
                // bench/cpu_stream_model.c: bench/RESULTS.md).
                for (; r < rows; r++)
                    for (int c = cb; c < full; c += TileCols)
                        Tile1x32(x, r, k, wt, o, c, bias, y);
            }
            else
            {
                // Row tiles as even as 6 allows, the first hinting the block's weights ahead from memory (as in
                // Gemm's 256-bit path, where lone leftover rows and unhinted first tiles cost ~1.3×; RESULTS.md).
                int tiles = EvenRowTiles.Count(rows - r, 6);
                if (tiles == 1 && rows - r == 1)
                {
                    bool hint = DecodeStreamHints.On;
                    for (int c = cb; c < full; c += TileCols)
                        Tile1x32Narrow(x, r, k, wt, o, c, bias, y, hint);   // a panel at a time, as the 512-bit path
                }
                else
                    for (int t = 0, n0 = rows - r; t < tiles; t++)
                    {
                        int n = EvenRowTiles.Size(n0, tiles, t);
                        for (int c = cb; c < full; c += TileCols)
                            if (t == 0 && tiles > 1)
                                PanelTile<Gemm.Prefetch>(n, x, r, k, wt, o, c, bias, y);
                            else
                                PanelTile<Gemm.NoPrefetch>(n, x, r, k, wt, o, c, bias, y);
                        r += n;
                    }
            }
            for (int c = full; c < cEnd; c++)
                for (int rr = r0; rr < rows; rr++)
                    y[rr * o + c] = Element(x, rr, w, c) + (bias?[c] ?? 0f);
        }
    }

    /// <summary>Rows [r0, r1) (a multiple of 4, at most <see cref="RowBlock"/>: a block under <see cref="WidenRows"/>
    /// rows, or any block of a MatMul over <see cref="WidenMaxRows"/>) over the whole panels in [c0, full): per panel,
    /// every 8- and 4-row tile over the whole k, widening in registers, the block's panels staying in L2; the first tile
    /// of a panel prefetches it ahead for the others.</summary>
    private static void Rows512(float[] x, int r0, int r1, int k, AlignedPanels<uint> wt, int o, int c0, int full, float[]? bias, float[] y)
    {
        int r8 = r0 + (r1 - r0) / 8 * 8;
        for (int c = c0; c < full; c += TileCols)
        {
            for (int r = r0; r < r8; r += 8)
                Tile8x32(x, r, k, wt, o, c, bias, y, prefetch: r == r0);
            if (r8 < r1)
                Tile4x32(x, r8, k, wt, o, c, bias, y, prefetch: r8 == r0);
        }
    }

    /// <summary>One element as every lane computes it: the FMA chain over k of widened weights (of a
    /// <see cref="HalfWeight"/>, or the same values decoded from a <see cref="CodedBf16Weight"/>).</summary>
    internal static float Element(float[] x, int r, IHalfBits w, int c)
    {
        float acc = 0f;
        int k = w.Cols;
        for (int i = 0; i < k; i++)
            acc = MathF.FusedMultiplyAdd(x[r * k + i], TPanel.ToSingle(w.Bits(c, i)), acc);
        return acc;
    }

    /// <summary>Stores acc (+ bias[c .. c + 15]) at y[at], unchecked: a range check after the k loop is a call, and any
    /// call there makes the JIT keep the accumulators in memory across the loop (vector registers are all
    /// caller-saved on x64 Unix). <see cref="Run"/> checks the extents once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector512<float> acc, ref float y, int at, ref float bias, bool hasBias, int c)
    {
        if (hasBias)
            acc += Vector512.LoadUnsafe(ref bias, (nuint)c);
        acc.StoreUnsafe(ref y, (nuint)at);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Ref(float[]? a) => ref a is null ? ref Unsafe.NullRef<float>() : ref MemoryMarshal.GetArrayDataReference(a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma(Vector512<float> x, Vector512<float> w, Vector512<float> acc) =>
        Vector512.FusedMultiplyAdd(x, w, acc);

    private readonly record struct Job(float[] X, int Rows, HalfWeight W, int PerChunk, float[]? Bias, float[] Y, bool Wide, bool WidenToScratch);
}
