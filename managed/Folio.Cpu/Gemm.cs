using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Folio.Cpu;

/// <summary>
/// y[r, o] = Σ_k x[r, k] · w[o, k] (+ bias[o]), with w stored [out, in] (rows of w are contiguous dot operands).
/// Every output element is one dot product with the same reduction order whatever the tile it falls in:
/// one Vector256 accumulator over k in steps of 8 (fused multiply-add), its horizontal sum, then the scalar
/// tail in order, then the bias. So a row's results are bit-identical alone or in any batch (batch invariance),
/// and threads only split the output columns, never a reduction.
/// Tiles of 4 rows × 4 columns reuse each loaded w vector for 4 rows and each x vector for 4 columns.
/// </summary>
internal static class Gemm
{
    private const int TileRows = 4;
    private const int TileCols = 4;

    /// <summary>512-bit vectors where the hardware has them (AVX-512); one width per process, so results are
    /// reproducible on a machine. Each width has its own, equally fixed, reduction order.</summary>
    private static readonly bool Wide = Vector512.IsHardwareAccelerated && Environment.GetEnvironmentVariable("FOLIO_CPU_VECTOR256") != "1";

    public static void Run(float[] x, int rows, int k, float[] w, int outCols, float[]? bias, float[] y, ParallelRunner runner)
    {
        // Column chunks a multiple of TileCols; enough chunks per thread to even out the load.
        int chunks = Math.Max(1, Math.Min(runner.Threads * 4, outCols / (TileCols * 4)));
        int perChunk = (outCols + chunks - 1) / chunks;
        perChunk = (perChunk + TileCols - 1) / TileCols * TileCols;
        chunks = (outCols + perChunk - 1) / perChunk;
        long work = (long)rows * k * outCols;
        runner.For(chunks, work, chunk =>
        {
            int c0 = chunk * perChunk;
            int c1 = Math.Min(outCols, c0 + perChunk);
            Columns(x, rows, k, w, c0, c1, bias, y, outCols);
        });
    }

    private static void Columns(float[] x, int rows, int k, float[] w, int c0, int c1, float[]? bias, float[] y, int outCols)
    {
        int c = c0;
        for (; c + TileCols <= c1; c += TileCols)
        {
            int r = 0;
            if (Wide)
            {
                for (; r + TileRows <= rows; r += TileRows)
                    Tile4x4512(x, r, k, w, c, bias, y, outCols);
                for (; r < rows; r++)
                    Tile1x4512(x, r, k, w, c, bias, y, outCols);
            }
            else
            {
                for (; r + TileRows <= rows; r += TileRows)
                    Tile4x4(x, r, k, w, c, bias, y, outCols);
                for (; r < rows; r++)
                    Tile1x4(x, r, k, w, c, bias, y, outCols);
            }
        }
        for (; c < c1; c++)
            for (int r = 0; r < rows; r++)
                y[r * outCols + c] = (Wide ? Dot512(x, r * k, w, c * k, k) : Dot(x, r * k, w, c * k, k)) + (bias?[c] ?? 0f);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(Vector256<float> acc, float[] x, int xo, float[] w, int wo, int k, int kv)
    {
        float s = Vector256.Sum(acc);
        float tail = 0f;
        for (int i = kv; i < k; i++)
            tail += x[xo + i] * w[wo + i];
        return s + tail;
    }

    /// <summary>The reference dot product that every tile reproduces exactly.</summary>
    internal static float Dot(float[] x, int xo, float[] w, int wo, int k)
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float wr = ref MemoryMarshal.GetArrayDataReference(w);
        int kv = k & ~7;
        var acc = Vector256<float>.Zero;
        for (int i = 0; i < kv; i += 8)
            acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref xr, (nuint)(xo + i)), Vector256.LoadUnsafe(ref wr, (nuint)(wo + i)), acc);
        return Finish(acc, x, xo, w, wo, k, kv);
    }

    private static void Tile1x4(float[] x, int r, int k, float[] w, int c, float[]? bias, float[] y, int outCols)
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float wr = ref MemoryMarshal.GetArrayDataReference(w);
        int kv = k & ~7;
        nuint xo = (nuint)(r * k);
        nuint w0 = (nuint)(c * k), w1 = w0 + (nuint)k, w2 = w1 + (nuint)k, w3 = w2 + (nuint)k;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int i = 0; i < kv; i += 8)
        {
            var xv = Vector256.LoadUnsafe(ref xr, xo + (nuint)i);
            a0 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref wr, w0 + (nuint)i), a0);
            a1 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref wr, w1 + (nuint)i), a1);
            a2 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref wr, w2 + (nuint)i), a2);
            a3 = Vector256.FusedMultiplyAdd(xv, Vector256.LoadUnsafe(ref wr, w3 + (nuint)i), a3);
        }
        int yo = r * outCols + c;
        y[yo] = Finish(a0, x, (int)xo, w, (int)w0, k, kv) + (bias?[c] ?? 0f);
        y[yo + 1] = Finish(a1, x, (int)xo, w, (int)w1, k, kv) + (bias?[c + 1] ?? 0f);
        y[yo + 2] = Finish(a2, x, (int)xo, w, (int)w2, k, kv) + (bias?[c + 2] ?? 0f);
        y[yo + 3] = Finish(a3, x, (int)xo, w, (int)w3, k, kv) + (bias?[c + 3] ?? 0f);
    }

    private static void Tile4x4(float[] x, int r, int k, float[] w, int c, float[]? bias, float[] y, int outCols)
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float wr = ref MemoryMarshal.GetArrayDataReference(w);
        int kv = k & ~7;
        nuint x0 = (nuint)(r * k), x1 = x0 + (nuint)k, x2 = x1 + (nuint)k, x3 = x2 + (nuint)k;
        nuint w0 = (nuint)(c * k), w1 = w0 + (nuint)k, w2 = w1 + (nuint)k, w3 = w2 + (nuint)k;
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default, a33 = default;
        for (int i = 0; i < kv; i += 8)
        {
            nuint ii = (nuint)i;
            var v0 = Vector256.LoadUnsafe(ref wr, w0 + ii);
            var v1 = Vector256.LoadUnsafe(ref wr, w1 + ii);
            var v2 = Vector256.LoadUnsafe(ref wr, w2 + ii);
            var v3 = Vector256.LoadUnsafe(ref wr, w3 + ii);
            var u = Vector256.LoadUnsafe(ref xr, x0 + ii);
            a00 = Vector256.FusedMultiplyAdd(u, v0, a00); a01 = Vector256.FusedMultiplyAdd(u, v1, a01);
            a02 = Vector256.FusedMultiplyAdd(u, v2, a02); a03 = Vector256.FusedMultiplyAdd(u, v3, a03);
            u = Vector256.LoadUnsafe(ref xr, x1 + ii);
            a10 = Vector256.FusedMultiplyAdd(u, v0, a10); a11 = Vector256.FusedMultiplyAdd(u, v1, a11);
            a12 = Vector256.FusedMultiplyAdd(u, v2, a12); a13 = Vector256.FusedMultiplyAdd(u, v3, a13);
            u = Vector256.LoadUnsafe(ref xr, x2 + ii);
            a20 = Vector256.FusedMultiplyAdd(u, v0, a20); a21 = Vector256.FusedMultiplyAdd(u, v1, a21);
            a22 = Vector256.FusedMultiplyAdd(u, v2, a22); a23 = Vector256.FusedMultiplyAdd(u, v3, a23);
            u = Vector256.LoadUnsafe(ref xr, x3 + ii);
            a30 = Vector256.FusedMultiplyAdd(u, v0, a30); a31 = Vector256.FusedMultiplyAdd(u, v1, a31);
            a32 = Vector256.FusedMultiplyAdd(u, v2, a32); a33 = Vector256.FusedMultiplyAdd(u, v3, a33);
        }
        Store(a00, a01, a02, a03, x, (int)x0, w, (int)w0, k, kv, bias, c, y, r * outCols + c);
        Store(a10, a11, a12, a13, x, (int)x1, w, (int)w0, k, kv, bias, c, y, (r + 1) * outCols + c);
        Store(a20, a21, a22, a23, x, (int)x2, w, (int)w0, k, kv, bias, c, y, (r + 2) * outCols + c);
        Store(a30, a31, a32, a33, x, (int)x3, w, (int)w0, k, kv, bias, c, y, (r + 3) * outCols + c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3,
        float[] x, int xo, float[] w, int w0, int k, int kv, float[]? bias, int c, float[] y, int yo)
    {
        y[yo] = Finish(a0, x, xo, w, w0, k, kv) + (bias?[c] ?? 0f);
        y[yo + 1] = Finish(a1, x, xo, w, w0 + k, k, kv) + (bias?[c + 1] ?? 0f);
        y[yo + 2] = Finish(a2, x, xo, w, w0 + 2 * k, k, kv) + (bias?[c + 2] ?? 0f);
        y[yo + 3] = Finish(a3, x, xo, w, w0 + 3 * k, k, kv) + (bias?[c + 3] ?? 0f);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish512(Vector512<float> acc, float[] x, int xo, float[] w, int wo, int k, int kv)
    {
        float s = Vector512.Sum(acc);
        float tail = 0f;
        for (int i = kv; i < k; i++)
            tail += x[xo + i] * w[wo + i];
        return s + tail;
    }

    /// <summary>The reference dot product that every tile reproduces exactly.</summary>
    internal static float Dot512(float[] x, int xo, float[] w, int wo, int k)
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float wr = ref MemoryMarshal.GetArrayDataReference(w);
        int kv = k & ~15;
        var acc = Vector512<float>.Zero;
        for (int i = 0; i < kv; i += 16)
            acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xr, (nuint)(xo + i)), Vector512.LoadUnsafe(ref wr, (nuint)(wo + i)), acc);
        return Finish512(acc, x, xo, w, wo, k, kv);
    }

    private static void Tile1x4512(float[] x, int r, int k, float[] w, int c, float[]? bias, float[] y, int outCols)
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float wr = ref MemoryMarshal.GetArrayDataReference(w);
        int kv = k & ~15;
        nuint xo = (nuint)(r * k);
        nuint w0 = (nuint)(c * k), w1 = w0 + (nuint)k, w2 = w1 + (nuint)k, w3 = w2 + (nuint)k;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int i = 0; i < kv; i += 16)
        {
            var xv = Vector512.LoadUnsafe(ref xr, xo + (nuint)i);
            a0 = Vector512.FusedMultiplyAdd(xv, Vector512.LoadUnsafe(ref wr, w0 + (nuint)i), a0);
            a1 = Vector512.FusedMultiplyAdd(xv, Vector512.LoadUnsafe(ref wr, w1 + (nuint)i), a1);
            a2 = Vector512.FusedMultiplyAdd(xv, Vector512.LoadUnsafe(ref wr, w2 + (nuint)i), a2);
            a3 = Vector512.FusedMultiplyAdd(xv, Vector512.LoadUnsafe(ref wr, w3 + (nuint)i), a3);
        }
        int yo = r * outCols + c;
        y[yo] = Finish512(a0, x, (int)xo, w, (int)w0, k, kv) + (bias?[c] ?? 0f);
        y[yo + 1] = Finish512(a1, x, (int)xo, w, (int)w1, k, kv) + (bias?[c + 1] ?? 0f);
        y[yo + 2] = Finish512(a2, x, (int)xo, w, (int)w2, k, kv) + (bias?[c + 2] ?? 0f);
        y[yo + 3] = Finish512(a3, x, (int)xo, w, (int)w3, k, kv) + (bias?[c + 3] ?? 0f);
    }

    private static void Tile4x4512(float[] x, int r, int k, float[] w, int c, float[]? bias, float[] y, int outCols)
    {
        ref float xr = ref MemoryMarshal.GetArrayDataReference(x);
        ref float wr = ref MemoryMarshal.GetArrayDataReference(w);
        int kv = k & ~15;
        nuint x0 = (nuint)(r * k), x1 = x0 + (nuint)k, x2 = x1 + (nuint)k, x3 = x2 + (nuint)k;
        nuint w0 = (nuint)(c * k), w1 = w0 + (nuint)k, w2 = w1 + (nuint)k, w3 = w2 + (nuint)k;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        for (int i = 0; i < kv; i += 16)
        {
            nuint ii = (nuint)i;
            var v0 = Vector512.LoadUnsafe(ref wr, w0 + ii);
            var v1 = Vector512.LoadUnsafe(ref wr, w1 + ii);
            var v2 = Vector512.LoadUnsafe(ref wr, w2 + ii);
            var v3 = Vector512.LoadUnsafe(ref wr, w3 + ii);
            var u = Vector512.LoadUnsafe(ref xr, x0 + ii);
            a00 = Vector512.FusedMultiplyAdd(u, v0, a00); a01 = Vector512.FusedMultiplyAdd(u, v1, a01);
            a02 = Vector512.FusedMultiplyAdd(u, v2, a02); a03 = Vector512.FusedMultiplyAdd(u, v3, a03);
            u = Vector512.LoadUnsafe(ref xr, x1 + ii);
            a10 = Vector512.FusedMultiplyAdd(u, v0, a10); a11 = Vector512.FusedMultiplyAdd(u, v1, a11);
            a12 = Vector512.FusedMultiplyAdd(u, v2, a12); a13 = Vector512.FusedMultiplyAdd(u, v3, a13);
            u = Vector512.LoadUnsafe(ref xr, x2 + ii);
            a20 = Vector512.FusedMultiplyAdd(u, v0, a20); a21 = Vector512.FusedMultiplyAdd(u, v1, a21);
            a22 = Vector512.FusedMultiplyAdd(u, v2, a22); a23 = Vector512.FusedMultiplyAdd(u, v3, a23);
            u = Vector512.LoadUnsafe(ref xr, x3 + ii);
            a30 = Vector512.FusedMultiplyAdd(u, v0, a30); a31 = Vector512.FusedMultiplyAdd(u, v1, a31);
            a32 = Vector512.FusedMultiplyAdd(u, v2, a32); a33 = Vector512.FusedMultiplyAdd(u, v3, a33);
        }
        Store512(a00, a01, a02, a03, x, (int)x0, w, (int)w0, k, kv, bias, c, y, r * outCols + c);
        Store512(a10, a11, a12, a13, x, (int)x1, w, (int)w0, k, kv, bias, c, y, (r + 1) * outCols + c);
        Store512(a20, a21, a22, a23, x, (int)x2, w, (int)w0, k, kv, bias, c, y, (r + 2) * outCols + c);
        Store512(a30, a31, a32, a33, x, (int)x3, w, (int)w0, k, kv, bias, c, y, (r + 3) * outCols + c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        float[] x, int xo, float[] w, int w0, int k, int kv, float[]? bias, int c, float[] y, int yo)
    {
        y[yo] = Finish512(a0, x, xo, w, w0, k, kv) + (bias?[c] ?? 0f);
        y[yo + 1] = Finish512(a1, x, xo, w, w0 + k, k, kv) + (bias?[c + 1] ?? 0f);
        y[yo + 2] = Finish512(a2, x, xo, w, w0 + 2 * k, k, kv) + (bias?[c + 2] ?? 0f);
        y[yo + 3] = Finish512(a3, x, xo, w, w0 + 3 * k, k, kv) + (bias?[c + 3] ?? 0f);
    }
}
