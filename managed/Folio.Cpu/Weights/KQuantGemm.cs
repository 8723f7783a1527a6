using System.Runtime.Intrinsics.X86;
using Folio.Core.Compute;
using Folio.Cpu.Emit;

namespace Folio.Cpu.Weights;

/// <summary>
/// y[r, o] = Σ_b x_b[r] · (column o of a <see cref="KQuantWeight"/>'s block b · x_q[r]) (+ bias[o]), the input
/// quantized to int8 with one scale x_b per super-block of 256 inputs (<see cref="Int8Activations.QuantizeWithKQuantSums"/>,
/// llama.cpp's q8_K granularity, with its sums of 32 in pairs for Q4_K's mins and −32 · sums of 16 for Q6_K's − 32).
/// Per super-block and output, every integer sum is exact:
/// Q4_K and Q5_K: S = Σ_j sc_j · Σ_{i in j} q_i · x_i and M = Σ_j m_j · Σ_{i in j} x_i (sub-blocks of 32), then
/// acc = fma(S, d · x_b, acc), acc = fma(M, −dmin · x_b, acc); Q6_K: S = Σ_j sc_j · Σ_{i in j} (q_i − 32) · x_i
/// (sub-blocks of 16), acc = fma(S, d · x_b, acc); y = acc + bias. The same fp32 steps on the same integers in every path (the tiles of
/// <see cref="KQuantTiles"/>, the portable loop below), so an element depends on its row and column only and the
/// paths agree bit for bit (tested). Threads split the panels in pairs; a pair's rows run in 4 × 16 tiles (2 × 16
/// without AVX-512), then one row at a time; a part's odd last panel in 4 × 8 and 1 × 8.
/// </summary>
internal static class KQuantGemm
{
    public static bool UsesVectors => Avx2.IsSupported;

    public static string KernelName(KQuantWeight w) =>
        $"{string.Join("+", w.Parts.Select(p => p.Source == p.Format ? p.Format.Name() : $"{p.Source.Name()} (as {p.Format.Name()})").Distinct())} blocks repacked in 8-column panels x int8 activations per block of 256, "
        + (UsesVectors ? (AvxVnni.IsSupported ? "AVX-VNNI vpdpbusd " : "AVX2 vpmaddubsw ") + (WideRows ? "4x16 tiles" : "2x16 tiles")
            + (UsesEmitted ? ", batches of 4+ rows on AVX-512 VNNI vpdpbusd (emitted 8x16 tiles)" : "") : "portable scalar");

    public static void Run(float[] x, int rows, KQuantWeight w, float[]? bias, float[] y, ParallelRunner runner, Int8Activations act)
    {
        act.QuantizeWithKQuantSums(x, rows, w.Cols, w.HasFormat(KQuantFormat.Q4K) || w.HasFormat(KQuantFormat.Q5K), w.HasFormat(KQuantFormat.Q6K));
        RunQuantized(act, rows, w, bias, y, runner, UsesVectors);
    }

    /// <summary>The GEMM on activations already quantized, with their k-quant sums;
    /// <paramref name="vectors"/> false forces the portable path, <paramref name="wideRows"/> the 4 × 16 (true) or
    /// 2 × 16 tiles (the tests run each).</summary>
    internal static void RunQuantized(Int8Activations act, int rows, KQuantWeight w, float[]? bias, float[] y, ParallelRunner runner, bool vectors,
        bool? wideRows = null, bool? emitted = null)
    {
        bool emit = emitted ?? UsesEmitted;
        if (emit && !UsesEmitted)
            throw new PlatformNotSupportedException("the emitted Q4_K / Q6_K tiles need AVX-512 VNNI on Linux x64");
        int outCols = w.Rows;
        if (act.ScaleSegment != Int8Activations.KQuantSegment || act.Scales.Length < (long)rows * w.BlocksPerRow || act.Signed.Length < (long)rows * act.RowBytes || act.RowBytes < w.Cols
            || y.Length < (long)rows * outCols || (bias is not null && bias.Length < outCols))
            throw new ArgumentException($"GEMM operands too short for {rows} rows x [{outCols}, {w.Cols}]");
        // The tiles read these sums unchecked.
        if (((w.HasFormat(KQuantFormat.Q4K) || w.HasFormat(KQuantFormat.Q5K)) && act.PairedGroupSums.Length < (long)rows * (act.RowBytes / 64))
            || (w.HasFormat(KQuantFormat.Q6K) && act.Q6KOffsets.Length < (long)rows * (act.RowBytes / 16)))
            throw new ArgumentException("the activations lack the k-quant sums a Q4_K, Q5_K or Q6_K weight needs (QuantizeWithKQuantSums)");
        int panels = w.Parts.Sum(p => p.PanelCount);
        int chunks = Math.Max(1, Math.Min(runner.Threads * 4, panels));
        // Whole pairs of panels per chunk, for the 16-column tiles.
        int perChunk = ((panels + chunks - 1) / chunks + 1) & ~1;
        chunks = (panels + perChunk - 1) / perChunk;
        long work = (long)rows * w.Cols * outCols / 4;
        runner.For(chunks, work, new Job(act, rows, w, perChunk, bias, y, vectors, wideRows ?? WideRows, emit), static (j, chunk) =>
        {
            int p0 = chunk * j.PerChunk;
            Panels(j.Act, j.Rows, j.W, p0, p0 + j.PerChunk, j.Bias, j.Y, j.Vectors, j.Wide, j.Emitted);
        });
    }

    private readonly record struct Job(Int8Activations Act, int Rows, KQuantWeight W, int PerChunk, float[]? Bias, float[] Y, bool Vectors, bool Wide, bool Emitted);

    /// <summary>Whether Q4_K, Q5_K and Q6_K (and Q3_K, as Q6_K) panel pairs of 4 rows or more run the emitted AVX-512 VNNI tiles
    /// (<see cref="Q4KEmittedTile"/>, <see cref="Q6KEmittedTile"/>).</summary>
    public static bool UsesEmitted => Q4KEmittedTile.Available && Q6KEmittedTile.Available;

    /// <summary>Global panels [p0, p1) (counted across the parts in order).</summary>
    private static void Panels(Int8Activations act, int rows, KQuantWeight w, int p0, int p1, float[]? bias, float[] y, bool vectors, bool wide, bool emitted)
    {
        int first = 0;
        foreach (var part in w.Parts)
        {
            int from = Math.Max(p0, first) - first, to = Math.Min(p1, first + part.PanelCount) - first;
            first += part.PanelCount;
            if (!vectors)
            {
                for (int p = from; p < to; p++)
                {
                    int cols = Math.Min(KQuantWeight.PanelCols, part.Rows - p * KQuantWeight.PanelCols);
                    int c0 = part.FirstRow + p * KQuantWeight.PanelCols;
                    for (int r = 0; r < rows; r++)
                        for (int c = 0; c < cols; c++)
                        {
                            float v = Element(act, r, w, part, p, c);
                            y[(long)r * w.Rows + c0 + c] = bias is null ? v : v + bias[c0 + c];
                        }
                }
                continue;
            }
            if (rows == 1)
            {
                // One row (batch-1 decode): one panel at a time, one prefetched sequential stream (the panels of a
                // thread's range lie back to back), not two interleaved streams the hardware prefetcher restarts.
                for (int p = from; p < to; p++)
                    KQuantTiles.Tile<KQuantTiles.One, KQuantTiles.One>(act, 0, w, part, p, bias, y);
                continue;
            }
            for (int p = from; p < to;)
            {
                int rr = 0;
                if (emitted && p + 1 < to && part.Format is KQuantFormat.Q4K or KQuantFormat.Q5K or KQuantFormat.Q6K
                    && part.Rows >= (p + 2) * KQuantWeight.PanelCols && rows >= EmittedTiles.MinRows)
                {
                    // Q4_K, Q5_K and Q6_K panel pairs, both whole: strips of 8 rows and a last strip of 4-7 on the
                    // emitted tiles, the rest (1-3 rows) on the managed one.
                    for (; rr + EmittedTiles.MinRows <= rows; rr += Math.Min(8, rows - rr))
                    {
                        if (part.Format != KQuantFormat.Q6K)
                            Q4KEmittedTile.Run(act, rr, Math.Min(8, rows - rr), w, part, p, bias, y);
                        else
                            Q6KEmittedTile.Run(act, rr, Math.Min(8, rows - rr), w, part, p, bias, y);
                    }
                    for (; rr < rows; rr++)
                        KQuantTiles.Tile<KQuantTiles.One, KQuantTiles.Two>(act, rr, w, part, p, bias, y);
                    p += 2;
                }
                else if (p + 1 < to && wide)
                {
                    for (; rr + 4 <= rows; rr += 4)
                        KQuantTiles.Tile<KQuantTiles.Four, KQuantTiles.Two>(act, rr, w, part, p, bias, y);
                    for (; rr < rows; rr++)
                        KQuantTiles.Tile<KQuantTiles.One, KQuantTiles.Two>(act, rr, w, part, p, bias, y);
                    p += 2;
                }
                else if (p + 1 < to)
                {
                    for (; rr + 2 <= rows; rr += 2)
                        KQuantTiles.Tile<KQuantTiles.Two, KQuantTiles.Two>(act, rr, w, part, p, bias, y);
                    for (; rr < rows; rr++)
                        KQuantTiles.Tile<KQuantTiles.One, KQuantTiles.Two>(act, rr, w, part, p, bias, y);
                    p += 2;
                }
                else
                {
                    for (; rr + 4 <= rows; rr += 4)
                        KQuantTiles.Tile<KQuantTiles.Four, KQuantTiles.One>(act, rr, w, part, p, bias, y);
                    for (; rr < rows; rr++)
                        KQuantTiles.Tile<KQuantTiles.One, KQuantTiles.One>(act, rr, w, part, p, bias, y);
                    p++;
                }
            }
        }
    }

    /// <summary>4 × 16 tiles need about 30 vector registers (8 int32 sub-block sums, 8 super-block sums, 8 fp32
    /// accumulators, the unpacked weights): x64 has 32 with AVX-512 (EVEX encodes ymm16-31), 16 without, where 2 × 16
    /// tiles run instead. On this machine's one-thread lm_head shape (gemm-precision), 4 × 16 took 0.91-0.94× the
    /// time of 4 × 8 at 32 rows and 0.84-0.90× at 128 (bench/RESULTS.md).</summary>
    private static readonly bool WideRows = Avx512F.VL.IsSupported;

    /// <summary>acc for row r and column c of panel p of a part, in the order the class comment gives (the portable
    /// path and the tiles' reference).</summary>
    internal static float Element(Int8Activations act, int r, KQuantWeight w, KQuantWeight.Part part, int p, int c)
    {
        int blocks = w.BlocksPerRow, bytes = KQuantPanels.BlockBytes(part.Format);
        var x = act.Signed.AsSpan(r * act.RowBytes, act.RowBytes);
        var xs = act.Scales.AsSpan(r * blocks, blocks);   // the row's activation scale of each block
        float acc = 0f;
        for (int b = 0; b < blocks; b++)
        {
            var block = part.Panels.AsSpan((int)(((long)p * blocks + b) * bytes), bytes);
            if (part.Format.HasMins())
            {
                bool five = part.Format == KQuantFormat.Q5K;
                int s = 0, m = 0;
                for (int j = 0; j < 8; j++)
                {
                    int dot = 0, sum = 0;
                    for (int i = 32 * j; i < 32 * j + 32; i++)
                    {
                        dot += (five ? KQuantPanels.Q5KValue(block, i, c) : KQuantPanels.Q4KValue(block, i, c)) * x[256 * b + i];
                        sum += x[256 * b + i];
                    }
                    s += KQuantPanels.Q4KScale(block, j, c) * dot;
                    m += KQuantPanels.Q4KMin(block, j, c) * sum;
                }
                acc = MathF.FusedMultiplyAdd(s, KQuantPanels.Float(block, KQuantPanels.Q4KD, c) * xs[b], acc);
                acc = MathF.FusedMultiplyAdd(m, KQuantPanels.Float(block, KQuantPanels.Q4KNegMin, c) * xs[b], acc);
            }
            else
            {
                int s = 0;
                for (int j = 0; j < 16; j++)
                {
                    int dot = 0;
                    for (int i = 16 * j; i < 16 * j + 16; i++)
                        dot += (KQuantPanels.Q6KValue(block, i, c) - 32) * x[256 * b + i];
                    s += KQuantPanels.Q6KScale(block, j, c) * dot;
                }
                acc = MathF.FusedMultiplyAdd(s, KQuantPanels.Float(block, KQuantPanels.Q6KD, c) * xs[b], acc);
            }
        }
        return acc;
    }
}
