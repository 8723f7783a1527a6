using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Folio.Cpu.Weights;

/// <summary>
/// The many-row path of <see cref="Bf16RowGemm"/>: a block's weight rows widened to fp32 once, into a per-chunk
/// scratch in the lane order the kernel uses (per chunk of 32: the 16 even elements, then the 16 odd ones, as x is
/// split), then read by every 4-row tile of the block. The widening is exact and the FMAs, accumulators, reduction
/// and tail are those of <see cref="Bf16RowGemm.Tile4x2"/>, so the bits are the same; the tiles stop spending two
/// of every ten FMA-port operations on shifts and masks.
/// </summary>
internal static partial class Bf16RowGemm
{
    /// <summary>Rows from which widening a block first pays: each 4-row tile then reuses it.</summary>
    private const int WidenRows = 8;

    /// <summary>Floats of widened-weight scratch that <see cref="Run"/> needs for <paramref name="rows"/> rows.</summary>
    internal static int WidenedLength(int rows, int outCols, int k, int threads) =>
        rows < WidenRows ? 0 : checked(Chunks(outCols, threads).Count * BlockOuts * (k & ~(Chunk - 1)));

    /// <summary>Output rows [c0, c1) (at most <see cref="BlockOuts"/>) widened into <paramref name="wide"/>: row c at
    /// (c − c0) · kFull, whole chunks only (the tail stays with the bf16 row).</summary>
    private static void Widen(MappedBf16Weight w, int c0, int c1, Span<float> wide)
    {
        int kFull = w.Cols & ~(Chunk - 1);
        ref float dst = ref MemoryMarshal.GetReference(wide);
        for (int c = c0; c < c1; c++)
        {
            ref ushort row = ref w.Row(c);
            ref float d = ref Unsafe.Add(ref dst, (c - c0) * kFull);
            for (nuint i = 0; (int)i < kFull; i += Chunk)
            {
                var v = Load(ref row, i);
                Even(v).StoreUnsafe(ref d, i);
                Odd(v).StoreUnsafe(ref d, i + Chunk / 2);
            }
        }
    }

    /// <summary><see cref="Tile4x2"/> over widened rows <paramref name="v0"/>, <paramref name="v1"/> (the bf16 rows
    /// <paramref name="w0"/>, <paramref name="w1"/> give the tail).</summary>
    private static void Tile4x2Widened(float[] x, int r, int k, ref float v0, ref float v1, ref ushort w0, ref ushort w1, int o, int c, float[]? bias, float[] y)
    {
        ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref float x1 = ref Unsafe.Add(ref x0, k);
        ref float x2 = ref Unsafe.Add(ref x1, k);
        ref float x3 = ref Unsafe.Add(ref x2, k);
        Vector512<float> e00 = default, d00 = default, e10 = default, d10 = default, e20 = default, d20 = default, e30 = default, d30 = default;
        Vector512<float> e01 = default, d01 = default, e11 = default, d11 = default, e21 = default, d21 = default, e31 = default, d31 = default;
        for (nuint i = 0; (int)i + Chunk <= k; i += Chunk)
        {
            var we0 = Vector512.LoadUnsafe(ref v0, i); var wo0 = Vector512.LoadUnsafe(ref v0, i + Chunk / 2);
            var we1 = Vector512.LoadUnsafe(ref v1, i); var wo1 = Vector512.LoadUnsafe(ref v1, i + Chunk / 2);
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
}
