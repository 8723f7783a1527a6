using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Folio.Cpu.Weights;

/// <summary>
/// y[r, o] = Σ_k x[r, k] · w[o, k] (+ bias[o]) with w a <see cref="MappedBf16Weight"/>: the checkpoint's row-major
/// bf16 rows read in place, so each output is a dot product along a weight row (as llama.cpp's kernels), not the
/// column-panel FMA chain of <see cref="HalfGemm{TPanel}"/> (which needs the weights repacked). One 512-bit load
/// holds 32 consecutive weights; a mask gives the odd ones and a 16-bit shift the even ones as fp32 (exact), so x
/// is split once per MatMul into its even and odd elements per chunk of 32 (<see cref="Split"/>). Every element,
/// in every tile and at every batch size, is computed the same way (a row's result does not depend on the batch):
/// <code>
///   e, d = 0 (16 fp32 lanes each); for chunk c = 0 .. K/32 − 1, lane l = 0..15:
///       e[l] = fma(x[32c + 2l], w[32c + 2l], e[l]) ;  d[l] = fma(x[32c + 2l + 1], w[32c + 2l + 1], d[l])
///   s = e + d ;  u[l] = s[l] + s[l + 8] (l = 0..7) ;  t[l] = u[l] + u[l + 4] (l = 0..3) ;  sum = (t0 + t2) + (t1 + t3)
///   for i = 32·(K/32) .. K − 1:  sum = fma(x[i], w[i], sum) ;   then sum + bias
/// </code>
/// Vector512 throughout: where the hardware has no 512-bit vectors .NET computes the same lanes in narrower steps,
/// with the same bits (lane-wise IEEE operations), only slower.
/// The values are the checkpoint's exactly; only the summation order differs from the fp32 path, so results agree
/// to fp32 rounding, not bit for bit. Tiles: 4 rows × 2 outputs (prefill), 1 row × 4 outputs (decode), 1 × 1;
/// blocks of 32 outputs so that the rows a tile rereads stay in cache.
/// </summary>
internal static class Bf16RowGemm
{
    public const string KernelName = "bf16 weights mapped in place, row-major dot products, widened in registers, fp32 FMA (Vector512)";
    private const int BlockOuts = 32;
    /// <summary>Weights per 512-bit load.</summary>
    private const int Chunk = 32;

    /// <param name="split">Scratch of at least rows × Cols floats for x's even/odd split (the caller's, reused).</param>
    public static void Run(float[] x, int rows, MappedBf16Weight w, float[]? bias, float[] y, ParallelRunner runner, float[] split)
    {
        w.RequireLive();
        Split(x, rows, w.Cols, split);
        int outCols = w.Rows;
        int chunks = Math.Max(1, Math.Min(runner.Threads * 4, outCols / 64));
        int perChunk = (outCols + chunks - 1) / chunks;
        perChunk = (perChunk + 3) / 4 * 4;
        chunks = (outCols + perChunk - 1) / perChunk;
        long work = (long)rows * w.Cols * outCols;
        runner.For(chunks, work, new Job(split, rows, w, perChunk, bias, y), static (j, chunk) =>
        {
            int c0 = chunk * j.PerChunk;
            Columns(j.X, j.Rows, j.W, c0, Math.Min(j.W.Rows, c0 + j.PerChunk), j.Bias, j.Y);
        });
    }

    /// <summary>Each row of x with every whole chunk of 32 reordered as its 16 even elements, then its 16 odd ones (the
    /// lanes the mask/shift widening gives); the tail past the last whole chunk stays in place.</summary>
    internal static void Split(float[] x, int rows, int k, float[] split)
    {
        if (split.Length < rows * k)
            throw new ArgumentException($"the split scratch holds {split.Length} floats, needs {rows} × {k}");
        int full = k & ~(Chunk - 1);
        for (int r = 0; r < rows; r++)
        {
            int at = r * k;
            for (int i = 0; i < full; i += Chunk)
                for (int l = 0; l < Chunk / 2; l++)
                {
                    split[at + i + l] = x[at + i + 2 * l];
                    split[at + i + Chunk / 2 + l] = x[at + i + 2 * l + 1];
                }
            for (int i = full; i < k; i++)
                split[at + i] = x[at + i];
        }
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

    /// <summary>The 32 bf16 weights at w[i..i+31] as one 512-bit load of 16 words (word l = w[i+2l] | w[i+2l+1] &lt;&lt; 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Load(ref ushort w, nuint i) => Vector512.LoadUnsafe(ref Unsafe.As<ushort, uint>(ref w), i / 2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Even(Vector512<uint> words) => (words << 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Odd(Vector512<uint> words) => (words & Vector512.Create(0xFFFF0000u)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> X(ref float x, nuint i) => Vector512.LoadUnsafe(ref x, i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    /// <summary>The reduction, scalar tail and bias of the definition above (x split: the tail is in place).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(Vector512<float> e, Vector512<float> d, ref float x, ref ushort w, int k, float[]? bias, int c)
    {
        var s = e + d;
        var u = s.GetLower() + s.GetUpper();
        var t = u.GetLower() + u.GetUpper();
        float sum = (t.GetElement(0) + t.GetElement(2)) + (t.GetElement(1) + t.GetElement(3));
        for (int i = k & ~(Chunk - 1); i < k; i++)
            sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref x, i), BitConverter.Int32BitsToSingle(Unsafe.Add(ref w, i) << 16), sum);
        return bias is null ? sum : sum + bias[c];
    }

    /// <summary>One element as every tile computes it (x split).</summary>
    private static float Element(float[] x, int r, int k, ref ushort w, float[]? bias, int c)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        Vector512<float> e = default, d = default;
        for (nuint i = 0; (int)i + Chunk <= k; i += Chunk)
        {
            var v = Load(ref w, i);
            e = Fma(X(ref xr, i), Even(v), e);
            d = Fma(X(ref xr, i + Chunk / 2), Odd(v), d);
        }
        return Finish(e, d, ref xr, ref w, k, bias, c);
    }

    private static void Tile1x4(float[] x, int r, int k, ref ushort w0, ref ushort w1, ref ushort w2, ref ushort w3,
        int o, int c, float[]? bias, float[] y)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        Vector512<float> e0 = default, d0 = default, e1 = default, d1 = default, e2 = default, d2 = default, e3 = default, d3 = default;
        for (nuint i = 0; (int)i + Chunk <= k; i += Chunk)
        {
            var xe = X(ref xr, i);
            var xo = X(ref xr, i + Chunk / 2);
            var v = Load(ref w0, i);
            e0 = Fma(xe, Even(v), e0); d0 = Fma(xo, Odd(v), d0);
            v = Load(ref w1, i);
            e1 = Fma(xe, Even(v), e1); d1 = Fma(xo, Odd(v), d1);
            v = Load(ref w2, i);
            e2 = Fma(xe, Even(v), e2); d2 = Fma(xo, Odd(v), d2);
            v = Load(ref w3, i);
            e3 = Fma(xe, Even(v), e3); d3 = Fma(xo, Odd(v), d3);
        }
        int at = r * o + c;
        y[at] = Finish(e0, d0, ref xr, ref w0, k, bias, c);
        y[at + 1] = Finish(e1, d1, ref xr, ref w1, k, bias, c + 1);
        y[at + 2] = Finish(e2, d2, ref xr, ref w2, k, bias, c + 2);
        y[at + 3] = Finish(e3, d3, ref xr, ref w3, k, bias, c + 3);
    }

    private static void Tile4x2(float[] x, int r, int k, ref ushort w0, ref ushort w1, int o, int c, float[]? bias, float[] y)
    {
        ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref float x1 = ref Unsafe.Add(ref x0, k);
        ref float x2 = ref Unsafe.Add(ref x1, k);
        ref float x3 = ref Unsafe.Add(ref x2, k);
        Vector512<float> e00 = default, d00 = default, e10 = default, d10 = default, e20 = default, d20 = default, e30 = default, d30 = default;
        Vector512<float> e01 = default, d01 = default, e11 = default, d11 = default, e21 = default, d21 = default, e31 = default, d31 = default;
        for (nuint i = 0; (int)i + Chunk <= k; i += Chunk)
        {
            var v0 = Load(ref w0, i);
            var v1 = Load(ref w1, i);
            var we0 = Even(v0); var wo0 = Odd(v0);
            var we1 = Even(v1); var wo1 = Odd(v1);
            var xe = X(ref x0, i); var xo = X(ref x0, i + Chunk / 2);
            e00 = Fma(xe, we0, e00); d00 = Fma(xo, wo0, d00);
            e01 = Fma(xe, we1, e01); d01 = Fma(xo, wo1, d01);
            xe = X(ref x1, i); xo = X(ref x1, i + Chunk / 2);
            e10 = Fma(xe, we0, e10); d10 = Fma(xo, wo0, d10);
            e11 = Fma(xe, we1, e11); d11 = Fma(xo, wo1, d11);
            xe = X(ref x2, i); xo = X(ref x2, i + Chunk / 2);
            e20 = Fma(xe, we0, e20); d20 = Fma(xo, wo0, d20);
            e21 = Fma(xe, we1, e21); d21 = Fma(xo, wo1, d21);
            xe = X(ref x3, i); xo = X(ref x3, i + Chunk / 2);
            e30 = Fma(xe, we0, e30); d30 = Fma(xo, wo0, d30);
            e31 = Fma(xe, we1, e31); d31 = Fma(xo, wo1, d31);
        }
        int at = r * o + c;
        y[at] = Finish(e00, d00, ref x0, ref w0, k, bias, c); y[at + 1] = Finish(e01, d01, ref x0, ref w1, k, bias, c + 1); at += o;
        y[at] = Finish(e10, d10, ref x1, ref w0, k, bias, c); y[at + 1] = Finish(e11, d11, ref x1, ref w1, k, bias, c + 1); at += o;
        y[at] = Finish(e20, d20, ref x2, ref w0, k, bias, c); y[at + 1] = Finish(e21, d21, ref x2, ref w1, k, bias, c + 1); at += o;
        y[at] = Finish(e30, d30, ref x3, ref w0, k, bias, c); y[at + 1] = Finish(e31, d31, ref x3, ref w1, k, bias, c + 1);
    }

    private readonly record struct Job(float[] X, int Rows, MappedBf16Weight W, int PerChunk, float[]? Bias, float[] Y);
}
