using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Folio.Cpu.Weights;

/// <summary>
/// y[r, o] = Σ_k x[r, k] · w[o, k] (+ bias[o]) with w a <see cref="HalfWeight"/>: each 16-column panel row is one
/// 256-bit load widened to two fp32 vectors in registers (<typeparamref name="TPanel"/>), then the same fused
/// multiply-add chains as the fp32 <see cref="Gemm"/>: every element is one FMA chain over k = 0, 1, … from zero,
/// then + bias. A widened 16-bit value is exactly the fp32 value the checkpoint meant, so for a bf16/fp16
/// checkpoint this gives the very bits the fp32 path gives for it (and the same batch invariance), reading
/// half the bytes. Tiles: with AVX-512, 8 and 4 rows × 32 columns (HalfGemm.Vector512.cs);
/// 6 rows × 16 columns (leftover rows, or no AVX-512), 1 × 64 (decode), 1 × 16, scalar for a partial panel.
/// </summary>
internal static partial class HalfGemm<TPanel> where TPanel : struct, IHalfPanel
{
    private const int TileRows = 6;
    private const int TileCols = HalfWeight.PanelCols;
    private const int WideCols = 64;
    private const int Words = TileCols / 2;
    /// <summary>Columns per cache block: k × 128 × 2 bytes of weights stay in L2 for all row tiles.</summary>
    private const int BlockCols = 256;

    public static void Run(float[] x, int rows, HalfWeight w, float[]? bias, float[] y, ParallelRunner runner)
    {
        int outCols = w.Rows, k = w.Cols;
        if (x.Length < (long)rows * k || y.Length < (long)rows * outCols || (bias is not null && bias.Length < outCols))
            throw new ArgumentException($"GEMM operands too short for [{rows}, {k}] x [{outCols}, {k}]");
        int chunks = Math.Max(1, Math.Min(runner.Threads * 4, outCols / (TileCols * 4)));
        int perChunk = (outCols + chunks - 1) / chunks;
        int unit = Wide ? WideTileCols : TileCols;   // whole 512-bit tiles per chunk where they run
        perChunk = (perChunk + unit - 1) / unit * unit;
        chunks = (outCols + perChunk - 1) / perChunk;
        long work = (long)rows * k * outCols;
        runner.For(chunks, work, new Job(x, rows, w, perChunk, bias, y), static (j, chunk) =>
        {
            int c0 = chunk * j.PerChunk;
            Columns(j.X, j.Rows, j.W, c0, Math.Min(j.W.Rows, c0 + j.PerChunk), j.Bias, j.Y);
        });
    }

    private static void Columns(float[] x, int rows, HalfWeight w, int c0, int c1, float[]? bias, float[] y)
    {
        int o = w.Rows, k = w.Cols;
        uint[] wt = w.Words;
        for (int cb = c0; cb < c1; cb += BlockCols)
        {
            int cEnd = Math.Min(c1, cb + BlockCols);
            int full = cEnd == o ? cb + (cEnd - cb) / TileCols * TileCols : cEnd;   // only the last panel can be partial
            int r = 0;
            if (Wide)
            {
                int wide = cb + (full - cb) / WideTileCols * WideTileCols;
                for (; r + 8 <= rows; r += 8)
                    Rows512(x, r, 8, k, wt, o, cb, wide, full, bias, y);
                for (; r + 4 <= rows; r += 4)
                    Rows512(x, r, 4, k, wt, o, cb, wide, full, bias, y);
            }
            for (; r + TileRows <= rows; r += TileRows)
                for (int c = cb; c < full; c += TileCols)
                    Tile6x16(x, r, k, wt, o, c, bias, y);
            for (; r < rows; r++)
            {
                int c = cb;
                for (; c + WideCols <= full; c += WideCols)
                    Tile1x64(x, r, k, wt, o, c, bias, y);
                for (; c < full; c += TileCols)
                    Tile1x16(x, r, k, wt, o, c, bias, y);
            }
            for (int c = full; c < cEnd; c++)
                for (int rr = 0; rr < rows; rr++)
                    y[rr * o + c] = Element(x, rr, w, c) + (bias?[c] ?? 0f);
        }
    }

    /// <summary>One element as every lane computes it: the FMA chain over k of widened weights.</summary>
    internal static float Element(float[] x, int r, HalfWeight w, int c)
    {
        float acc = 0f;
        int k = w.Cols;
        for (int i = 0; i < k; i++)
            acc = MathF.FusedMultiplyAdd(x[r * k + i], TPanel.ToSingle(w.Bits(c, i)), acc);
        return acc;
    }

    /// <summary>Stores acc (+ bias[c ..]) at y[at], unchecked: a range check after the k loop is a call, and any call
    /// there makes the JIT keep the accumulators in memory across the loop (vector registers are all caller-saved on
    /// x64 Unix). <see cref="Run"/> checks the extents once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector256<float> acc, float[] y, int at, float[]? bias, int c)
    {
        if (bias is not null)
            acc += Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(bias), (nuint)c);
        acc.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(y), (nuint)at);
    }

    private static void Tile6x16(float[] x, int r, int k, uint[] wt, int o, int c, float[]? bias, float[] y)
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref uint wr = ref MemoryMarshal.GetArrayDataReference(wt);
        nuint x0 = (nuint)(r * k), x1 = x0 + (nuint)k, x2 = x1 + (nuint)k, x3 = x2 + (nuint)k, x4 = x3 + (nuint)k, x5 = x4 + (nuint)k;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector256<float> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        nuint wo = (nuint)(c / TileCols * k * Words);
        for (int i = 0; i < k; i++, wo += Words)
        {
            var words = Vector256.LoadUnsafe(ref wr, wo);
            var w0 = TPanel.High(words);
            var w1 = TPanel.Low(words);
            nuint ii = (nuint)i;
            var b = Vector256.Create(Unsafe.Add(ref xr, x0 + ii));
            a00 = Vector256.FusedMultiplyAdd(b, w0, a00); a01 = Vector256.FusedMultiplyAdd(b, w1, a01);
            b = Vector256.Create(Unsafe.Add(ref xr, x1 + ii));
            a10 = Vector256.FusedMultiplyAdd(b, w0, a10); a11 = Vector256.FusedMultiplyAdd(b, w1, a11);
            b = Vector256.Create(Unsafe.Add(ref xr, x2 + ii));
            a20 = Vector256.FusedMultiplyAdd(b, w0, a20); a21 = Vector256.FusedMultiplyAdd(b, w1, a21);
            b = Vector256.Create(Unsafe.Add(ref xr, x3 + ii));
            a30 = Vector256.FusedMultiplyAdd(b, w0, a30); a31 = Vector256.FusedMultiplyAdd(b, w1, a31);
            b = Vector256.Create(Unsafe.Add(ref xr, x4 + ii));
            a40 = Vector256.FusedMultiplyAdd(b, w0, a40); a41 = Vector256.FusedMultiplyAdd(b, w1, a41);
            b = Vector256.Create(Unsafe.Add(ref xr, x5 + ii));
            a50 = Vector256.FusedMultiplyAdd(b, w0, a50); a51 = Vector256.FusedMultiplyAdd(b, w1, a51);
        }
        int y0 = r * o + c;
        Put(a00, y, y0, bias, c); Put(a01, y, y0 + 8, bias, c + 8); y0 += o;
        Put(a10, y, y0, bias, c); Put(a11, y, y0 + 8, bias, c + 8); y0 += o;
        Put(a20, y, y0, bias, c); Put(a21, y, y0 + 8, bias, c + 8); y0 += o;
        Put(a30, y, y0, bias, c); Put(a31, y, y0 + 8, bias, c + 8); y0 += o;
        Put(a40, y, y0, bias, c); Put(a41, y, y0 + 8, bias, c + 8); y0 += o;
        Put(a50, y, y0, bias, c); Put(a51, y, y0 + 8, bias, c + 8);
    }

    private static void Tile1x64(float[] x, int r, int k, uint[] wt, int o, int c, float[]? bias, float[] y)
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref uint wr = ref MemoryMarshal.GetArrayDataReference(wt);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        nuint xo = (nuint)(r * k);
        nuint panel = (nuint)(k * Words);
        nuint p0 = (nuint)(c / TileCols) * panel, p1 = p0 + panel, p2 = p1 + panel, p3 = p2 + panel;
        int i = 0;
        // Two k per iteration, each panel's two k as one 512-bit load (16 columns × 2 k × 2 bytes, contiguous);
        // the FMAs still run k, then k + 1, into the same accumulators, so the chains are unchanged.
        for (; i + 2 <= k; i += 2, p0 += 2 * Words, p1 += 2 * Words, p2 += 2 * Words, p3 += 2 * Words)
        {
            var b = Vector256.Create(Unsafe.Add(ref xr, xo + (nuint)i));
            var b1 = Vector256.Create(Unsafe.Add(ref xr, xo + (nuint)i + 1));
            var v0 = Vector512.LoadUnsafe(ref wr, p0);
            var v1 = Vector512.LoadUnsafe(ref wr, p1);
            var v2 = Vector512.LoadUnsafe(ref wr, p2);
            var v3 = Vector512.LoadUnsafe(ref wr, p3);
            a0 = Vector256.FusedMultiplyAdd(b, TPanel.High(v0.GetLower()), a0);
            a1 = Vector256.FusedMultiplyAdd(b, TPanel.Low(v0.GetLower()), a1);
            a2 = Vector256.FusedMultiplyAdd(b, TPanel.High(v1.GetLower()), a2);
            a3 = Vector256.FusedMultiplyAdd(b, TPanel.Low(v1.GetLower()), a3);
            a4 = Vector256.FusedMultiplyAdd(b, TPanel.High(v2.GetLower()), a4);
            a5 = Vector256.FusedMultiplyAdd(b, TPanel.Low(v2.GetLower()), a5);
            a6 = Vector256.FusedMultiplyAdd(b, TPanel.High(v3.GetLower()), a6);
            a7 = Vector256.FusedMultiplyAdd(b, TPanel.Low(v3.GetLower()), a7);
            a0 = Vector256.FusedMultiplyAdd(b1, TPanel.High(v0.GetUpper()), a0);
            a1 = Vector256.FusedMultiplyAdd(b1, TPanel.Low(v0.GetUpper()), a1);
            a2 = Vector256.FusedMultiplyAdd(b1, TPanel.High(v1.GetUpper()), a2);
            a3 = Vector256.FusedMultiplyAdd(b1, TPanel.Low(v1.GetUpper()), a3);
            a4 = Vector256.FusedMultiplyAdd(b1, TPanel.High(v2.GetUpper()), a4);
            a5 = Vector256.FusedMultiplyAdd(b1, TPanel.Low(v2.GetUpper()), a5);
            a6 = Vector256.FusedMultiplyAdd(b1, TPanel.High(v3.GetUpper()), a6);
            a7 = Vector256.FusedMultiplyAdd(b1, TPanel.Low(v3.GetUpper()), a7);
        }
        for (; i < k; i++, p0 += Words, p1 += Words, p2 += Words, p3 += Words)
        {
            var b = Vector256.Create(Unsafe.Add(ref xr, xo + (nuint)i));
            var v0 = Vector256.LoadUnsafe(ref wr, p0);
            var v1 = Vector256.LoadUnsafe(ref wr, p1);
            var v2 = Vector256.LoadUnsafe(ref wr, p2);
            var v3 = Vector256.LoadUnsafe(ref wr, p3);
            a0 = Vector256.FusedMultiplyAdd(b, TPanel.High(v0), a0);
            a1 = Vector256.FusedMultiplyAdd(b, TPanel.Low(v0), a1);
            a2 = Vector256.FusedMultiplyAdd(b, TPanel.High(v1), a2);
            a3 = Vector256.FusedMultiplyAdd(b, TPanel.Low(v1), a3);
            a4 = Vector256.FusedMultiplyAdd(b, TPanel.High(v2), a4);
            a5 = Vector256.FusedMultiplyAdd(b, TPanel.Low(v2), a5);
            a6 = Vector256.FusedMultiplyAdd(b, TPanel.High(v3), a6);
            a7 = Vector256.FusedMultiplyAdd(b, TPanel.Low(v3), a7);
        }
        int y0 = r * o + c;
        Put(a0, y, y0, bias, c); Put(a1, y, y0 + 8, bias, c + 8); Put(a2, y, y0 + 16, bias, c + 16); Put(a3, y, y0 + 24, bias, c + 24);
        Put(a4, y, y0 + 32, bias, c + 32); Put(a5, y, y0 + 40, bias, c + 40); Put(a6, y, y0 + 48, bias, c + 48); Put(a7, y, y0 + 56, bias, c + 56);
    }

    private static void Tile1x16(float[] x, int r, int k, uint[] wt, int o, int c, float[]? bias, float[] y)
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref uint wr = ref MemoryMarshal.GetArrayDataReference(wt);
        Vector256<float> a0 = default, a1 = default;
        nuint xo = (nuint)(r * k);
        nuint wo = (nuint)(c / TileCols * k * Words);
        for (int i = 0; i < k; i++, wo += Words)
        {
            var b = Vector256.Create(Unsafe.Add(ref xr, xo + (nuint)i));
            var v = Vector256.LoadUnsafe(ref wr, wo);
            a0 = Vector256.FusedMultiplyAdd(b, TPanel.High(v), a0);
            a1 = Vector256.FusedMultiplyAdd(b, TPanel.Low(v), a1);
        }
        int y0 = r * o + c;
        Put(a0, y, y0, bias, c);
        Put(a1, y, y0 + 8, bias, c + 8);
    }

    private readonly record struct Job(float[] X, int Rows, HalfWeight W, int PerChunk, float[]? Bias, float[] Y);
}
