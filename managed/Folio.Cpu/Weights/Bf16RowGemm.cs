using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// y[r, o] = Σ_k x[r, k] · w[o, k] (+ bias[o]) with w a <see cref="MappedBf16Weight"/>: the checkpoint's row-major
/// bf16 rows read in place, so each output is a dot product along a weight row (as llama.cpp's kernels), not the
/// column-panel FMA chain of <see cref="HalfGemm{TPanel}"/> (which needs the weights repacked). Every element, in
/// every tile and at every batch size, is computed the same way (so a row's result does not depend on the batch):
/// <code>
///   a0, a1 = 0 (8 fp32 lanes each); for chunk c = 0 .. K/8 − 1:  a[c mod 2] = fma(x[8c..8c+7], w[8c..8c+7], a[c mod 2])
///   t = (a0 + a1).lower + (a0 + a1).upper ;  s = (t0 + t2) + (t1 + t3)
///   for i = 8·(K/8) .. K − 1:  s = fma(x[i], w[i], s) ;   then s + bias
/// </code>
/// bf16 → fp32 is exact (a zero-extend and a 16-bit shift in registers), so the only difference from the fp32 path is
/// the summation order: results agree to fp32 rounding, not bit for bit. Tiles: 4 rows × 2 outputs (prefill),
/// 1 row × 4 outputs (decode), 1 × 1; blocks of 32 outputs so the rows a tile rereads stay in cache.
/// </summary>
internal static class Bf16RowGemm
{
    public const string KernelName = "bf16 weights mapped in place, row-major dot products, widened in registers, fp32 FMA (Vector256)";
    private const int BlockOuts = 32;

    public static void Run(float[] x, int rows, MappedBf16Weight w, float[]? bias, float[] y, ParallelRunner runner)
    {
        int outCols = w.Rows;
        int chunks = Math.Max(1, Math.Min(runner.Threads * 4, outCols / 64));
        int perChunk = (outCols + chunks - 1) / chunks;
        perChunk = (perChunk + 3) / 4 * 4;
        chunks = (outCols + perChunk - 1) / perChunk;
        long work = (long)rows * w.Cols * outCols;
        runner.For(chunks, work, new Job(x, rows, w, perChunk, bias, y), static (j, chunk) =>
        {
            int c0 = chunk * j.PerChunk;
            Columns(j.X, j.Rows, j.W, c0, Math.Min(j.W.Rows, c0 + j.PerChunk), j.Bias, j.Y);
        });
    }

    private static void Columns(float[] x, int rows, MappedBf16Weight w, int c0, int c1, float[]? bias, float[] y)
    {
        int o = w.Rows, k = w.Cols;
        for (int cb = c0; cb < c1; cb += BlockOuts)
        {
            int cEnd = Math.Min(c1, cb + BlockOuts);
            int r = 0;
            for (; r + 4 <= rows; r += 4)
            {
                int c = cb;
                for (; c + 2 <= cEnd; c += 2)
                    Tile4x2(x, r, k, ref w.Row(c), ref w.Row(c + 1), o, c, bias, y);
                for (; c < cEnd; c++)
                    for (int rr = r; rr < r + 4; rr++)
                        y[rr * o + c] = Element(x, rr, k, ref w.Row(c), bias, c);
            }
            for (; r < rows; r++)
            {
                int c = cb;
                for (; c + 4 <= cEnd; c += 4)
                    Tile1x4(x, r, k, ref w.Row(c), ref w.Row(c + 1), ref w.Row(c + 2), ref w.Row(c + 3), o, c, bias, y);
                for (; c < cEnd; c++)
                    y[r * o + c] = Element(x, r, k, ref w.Row(c), bias, c);
            }
        }
    }

    /// <summary>Eight bf16 values at w[i..i+7] as fp32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(ref ushort w, nuint i)
    {
        var h = Vector128.LoadUnsafe(ref w, i);
        if (Avx2.IsSupported)
            return Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(h), 16).AsSingle();
        return (Vector256.Create(Vector128.WidenLower(h), Vector128.WidenUpper(h)) << 16).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> X(ref float x, nuint i) => Vector256.LoadUnsafe(ref x, i);

    /// <summary>The reduction, scalar tail and bias of the definition above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(Vector256<float> a0, Vector256<float> a1, ref float x, ref ushort w, int k, float[]? bias, int c)
    {
        var s = a0 + a1;
        var t = s.GetLower() + s.GetUpper();
        float sum = (t.GetElement(0) + t.GetElement(2)) + (t.GetElement(1) + t.GetElement(3));
        for (int i = k & ~7; i < k; i++)
            sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref x, i), BitConverter.Int32BitsToSingle(Unsafe.Add(ref w, i) << 16), sum);
        return bias is null ? sum : sum + bias[c];
    }

    /// <summary>One element as every tile computes it.</summary>
    internal static float Element(float[] x, int r, int k, ref ushort w, float[]? bias, int c)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        int full = k & ~7;
        Vector256<float> a0 = default, a1 = default;
        int i = 0;
        for (; i + 16 <= full; i += 16)
        {
            a0 = Vector256.FusedMultiplyAdd(X(ref xr, (nuint)i), Widen(ref w, (nuint)i), a0);
            a1 = Vector256.FusedMultiplyAdd(X(ref xr, (nuint)i + 8), Widen(ref w, (nuint)i + 8), a1);
        }
        if (i < full)
            a0 = Vector256.FusedMultiplyAdd(X(ref xr, (nuint)i), Widen(ref w, (nuint)i), a0);
        return Finish(a0, a1, ref xr, ref w, k, bias, c);
    }

    private static void Tile1x4(float[] x, int r, int k, ref ushort w0, ref ushort w1, ref ushort w2, ref ushort w3,
        int o, int c, float[]? bias, float[] y)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        int full = k & ~7;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        nuint i = 0;
        for (; (int)i + 16 <= full; i += 16)
        {
            var xa = X(ref xr, i);
            var xb = X(ref xr, i + 8);
            a00 = Vector256.FusedMultiplyAdd(xa, Widen(ref w0, i), a00); a01 = Vector256.FusedMultiplyAdd(xb, Widen(ref w0, i + 8), a01);
            a10 = Vector256.FusedMultiplyAdd(xa, Widen(ref w1, i), a10); a11 = Vector256.FusedMultiplyAdd(xb, Widen(ref w1, i + 8), a11);
            a20 = Vector256.FusedMultiplyAdd(xa, Widen(ref w2, i), a20); a21 = Vector256.FusedMultiplyAdd(xb, Widen(ref w2, i + 8), a21);
            a30 = Vector256.FusedMultiplyAdd(xa, Widen(ref w3, i), a30); a31 = Vector256.FusedMultiplyAdd(xb, Widen(ref w3, i + 8), a31);
        }
        if ((int)i < full)
        {
            var xa = X(ref xr, i);
            a00 = Vector256.FusedMultiplyAdd(xa, Widen(ref w0, i), a00);
            a10 = Vector256.FusedMultiplyAdd(xa, Widen(ref w1, i), a10);
            a20 = Vector256.FusedMultiplyAdd(xa, Widen(ref w2, i), a20);
            a30 = Vector256.FusedMultiplyAdd(xa, Widen(ref w3, i), a30);
        }
        int at = r * o + c;
        y[at] = Finish(a00, a01, ref xr, ref w0, k, bias, c);
        y[at + 1] = Finish(a10, a11, ref xr, ref w1, k, bias, c + 1);
        y[at + 2] = Finish(a20, a21, ref xr, ref w2, k, bias, c + 2);
        y[at + 3] = Finish(a30, a31, ref xr, ref w3, k, bias, c + 3);
    }

    private static void Tile4x2(float[] x, int r, int k, ref ushort w0, ref ushort w1, int o, int c, float[]? bias, float[] y)
    {
        ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref float x1 = ref Unsafe.Add(ref x0, k);
        ref float x2 = ref Unsafe.Add(ref x1, k);
        ref float x3 = ref Unsafe.Add(ref x2, k);
        int full = k & ~7;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        Vector256<float> b00 = default, b01 = default, b10 = default, b11 = default, b20 = default, b21 = default, b30 = default, b31 = default;
        nuint i = 0;
        for (; (int)i + 16 <= full; i += 16)
        {
            var wa = Widen(ref w0, i);
            var wb = Widen(ref w1, i);
            var xv = X(ref x0, i);
            a00 = Vector256.FusedMultiplyAdd(xv, wa, a00); b00 = Vector256.FusedMultiplyAdd(xv, wb, b00);
            xv = X(ref x1, i);
            a10 = Vector256.FusedMultiplyAdd(xv, wa, a10); b10 = Vector256.FusedMultiplyAdd(xv, wb, b10);
            xv = X(ref x2, i);
            a20 = Vector256.FusedMultiplyAdd(xv, wa, a20); b20 = Vector256.FusedMultiplyAdd(xv, wb, b20);
            xv = X(ref x3, i);
            a30 = Vector256.FusedMultiplyAdd(xv, wa, a30); b30 = Vector256.FusedMultiplyAdd(xv, wb, b30);
            wa = Widen(ref w0, i + 8);
            wb = Widen(ref w1, i + 8);
            xv = X(ref x0, i + 8);
            a01 = Vector256.FusedMultiplyAdd(xv, wa, a01); b01 = Vector256.FusedMultiplyAdd(xv, wb, b01);
            xv = X(ref x1, i + 8);
            a11 = Vector256.FusedMultiplyAdd(xv, wa, a11); b11 = Vector256.FusedMultiplyAdd(xv, wb, b11);
            xv = X(ref x2, i + 8);
            a21 = Vector256.FusedMultiplyAdd(xv, wa, a21); b21 = Vector256.FusedMultiplyAdd(xv, wb, b21);
            xv = X(ref x3, i + 8);
            a31 = Vector256.FusedMultiplyAdd(xv, wa, a31); b31 = Vector256.FusedMultiplyAdd(xv, wb, b31);
        }
        if ((int)i < full)
        {
            var wa = Widen(ref w0, i);
            var wb = Widen(ref w1, i);
            var xv = X(ref x0, i);
            a00 = Vector256.FusedMultiplyAdd(xv, wa, a00); b00 = Vector256.FusedMultiplyAdd(xv, wb, b00);
            xv = X(ref x1, i);
            a10 = Vector256.FusedMultiplyAdd(xv, wa, a10); b10 = Vector256.FusedMultiplyAdd(xv, wb, b10);
            xv = X(ref x2, i);
            a20 = Vector256.FusedMultiplyAdd(xv, wa, a20); b20 = Vector256.FusedMultiplyAdd(xv, wb, b20);
            xv = X(ref x3, i);
            a30 = Vector256.FusedMultiplyAdd(xv, wa, a30); b30 = Vector256.FusedMultiplyAdd(xv, wb, b30);
        }
        int at = r * o + c;
        y[at] = Finish(a00, a01, ref x0, ref w0, k, bias, c); y[at + 1] = Finish(b00, b01, ref x0, ref w1, k, bias, c + 1); at += o;
        y[at] = Finish(a10, a11, ref x1, ref w0, k, bias, c); y[at + 1] = Finish(b10, b11, ref x1, ref w1, k, bias, c + 1); at += o;
        y[at] = Finish(a20, a21, ref x2, ref w0, k, bias, c); y[at + 1] = Finish(b20, b21, ref x2, ref w1, k, bias, c + 1); at += o;
        y[at] = Finish(a30, a31, ref x3, ref w0, k, bias, c); y[at + 1] = Finish(b30, b31, ref x3, ref w1, k, bias, c + 1);
    }

    private readonly record struct Job(float[] X, int Rows, MappedBf16Weight W, int PerChunk, float[]? Bias, float[] Y);
}
