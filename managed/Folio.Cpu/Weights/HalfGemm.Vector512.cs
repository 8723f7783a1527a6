using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Folio.Cpu.Weights;

/// <summary>
/// The AVX-512 tiles of <see cref="HalfGemm{TPanel}"/> for groups of 8 and 4 rows, over two adjacent 16-column
/// panels (32 columns). Per k, panel p's row (8 words) and panel p + 1's row are loaded into the two halves of one
/// 512-bit register and widened with 512-bit ops: the high halves give columns 0..7 of p, then 0..7 of p + 1; the
/// low halves columns 8..15 of each. So each accumulator lane is one column's chain, fused multiply-adds over k = 0,
/// 1, … from zero, then + bias: the same chain as the 256-bit tiles and <see cref="HalfGemm{TPanel}.Element"/> (and,
/// for a bf16 weight, as the fp32 <see cref="Gemm"/> on its widened values), only the lane placement differs, which
/// the stores undo. 8 rows: 16 accumulators, each 64-byte widened weight serving 8 rows (16 FMAs per 2 loads, one
/// insert and two widening ops per k).
/// </summary>
internal static partial class HalfGemm<TPanel>
{
    /// <summary>Whether the 512-bit tiles run (as <see cref="Gemm.Wide"/>).</summary>
    private static bool Wide => Vector512.IsHardwareAccelerated;

    private const int WideTileCols = 2 * TileCols;

    /// <summary>Rows r .. r + n − 1 (n = 8 or 4) over columns [c0, full): 512-bit tiles up to <paramref name="wide"/>,
    /// then a last 16-column panel row by row.</summary>
    private static void Rows512(float[] x, int r, int n, int k, uint[] wt, int o, int c0, int wide, int full, float[]? bias, float[] y)
    {
        for (int c = c0; c < wide; c += WideTileCols)
        {
            if (n == 8)
                Tile8x32(x, r, k, wt, o, c, bias, y);
            else
                Tile4x32(x, r, k, wt, o, c, bias, y);
        }
        for (int c = wide; c < full; c += TileCols)
            for (int rr = r; rr < r + n; rr++)
                Tile1x16(x, rr, k, wt, o, c, bias, y);
    }

    /// <summary>Panels p and p + 1 at k: their two 8-word rows, one 512-bit register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> Pair(ref uint w, nuint p0, nuint p1) =>
        Vector512.Create(Vector256.LoadUnsafe(ref w, p0), Vector256.LoadUnsafe(ref w, p1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma(Vector512<float> x, Vector512<float> w, Vector512<float> acc) =>
        Vector512.FusedMultiplyAdd(x, w, acc);

    /// <summary>Stores one row's two accumulators at y[at ..]: <paramref name="hi"/> holds columns 0..7 and 16..23,
    /// <paramref name="lo"/> columns 8..15 and 24..31. Unchecked, for the reason on <see cref="Put"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put2(Vector512<float> hi, Vector512<float> lo, ref float y, int at, ref float bias, bool hasBias, int c)
    {
        var h0 = hi.GetLower(); var h1 = hi.GetUpper();
        var l0 = lo.GetLower(); var l1 = lo.GetUpper();
        if (hasBias)
        {
            h0 += Vector256.LoadUnsafe(ref bias, (nuint)c);
            l0 += Vector256.LoadUnsafe(ref bias, (nuint)c + 8);
            h1 += Vector256.LoadUnsafe(ref bias, (nuint)c + 16);
            l1 += Vector256.LoadUnsafe(ref bias, (nuint)c + 24);
        }
        h0.StoreUnsafe(ref y, (nuint)at);
        l0.StoreUnsafe(ref y, (nuint)at + 8);
        h1.StoreUnsafe(ref y, (nuint)at + 16);
        l1.StoreUnsafe(ref y, (nuint)at + 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Ref(float[]? a) => ref a is null ? ref Unsafe.NullRef<float>() : ref MemoryMarshal.GetArrayDataReference(a);

    /// <summary>Rows r .. r + 7, columns c .. c + 31 (two whole panels).</summary>
    private static void Tile8x32(float[] x, int r, int k, uint[] wt, int o, int c, float[]? bias, float[] y)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref uint wr = ref MemoryMarshal.GetArrayDataReference(wt);
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float br = ref Ref(bias);
        bool hb = bias is not null;
        nuint ks = (nuint)k;
        Vector512<float> h0 = default, l0 = default, h1 = default, l1 = default, h2 = default, l2 = default, h3 = default, l3 = default;
        Vector512<float> h4 = default, l4 = default, h5 = default, l5 = default, h6 = default, l6 = default, h7 = default, l7 = default;
        nuint p0 = (nuint)(c / TileCols * k * Words), p1 = p0 + ks * Words;
        for (nuint i = 0; i < ks; i++, p0 += Words, p1 += Words)
        {
            var words = Pair(ref wr, p0, p1);
            var wh = TPanel.High(words);
            var wl = TPanel.Low(words);
            ref float xi = ref Unsafe.Add(ref xr, i);
            var b = Vector512.Create(xi);
            h0 = Fma(b, wh, h0); l0 = Fma(b, wl, l0);
            b = Vector512.Create(Unsafe.Add(ref xi, ks));
            h1 = Fma(b, wh, h1); l1 = Fma(b, wl, l1);
            b = Vector512.Create(Unsafe.Add(ref xi, 2 * ks));
            h2 = Fma(b, wh, h2); l2 = Fma(b, wl, l2);
            b = Vector512.Create(Unsafe.Add(ref xi, 3 * ks));
            h3 = Fma(b, wh, h3); l3 = Fma(b, wl, l3);
            b = Vector512.Create(Unsafe.Add(ref xi, 4 * ks));
            h4 = Fma(b, wh, h4); l4 = Fma(b, wl, l4);
            b = Vector512.Create(Unsafe.Add(ref xi, 5 * ks));
            h5 = Fma(b, wh, h5); l5 = Fma(b, wl, l5);
            b = Vector512.Create(Unsafe.Add(ref xi, 6 * ks));
            h6 = Fma(b, wh, h6); l6 = Fma(b, wl, l6);
            b = Vector512.Create(Unsafe.Add(ref xi, 7 * ks));
            h7 = Fma(b, wh, h7); l7 = Fma(b, wl, l7);
        }
        int y0 = r * o + c;
        Put2(h0, l0, ref yr, y0, ref br, hb, c); y0 += o;
        Put2(h1, l1, ref yr, y0, ref br, hb, c); y0 += o;
        Put2(h2, l2, ref yr, y0, ref br, hb, c); y0 += o;
        Put2(h3, l3, ref yr, y0, ref br, hb, c); y0 += o;
        Put2(h4, l4, ref yr, y0, ref br, hb, c); y0 += o;
        Put2(h5, l5, ref yr, y0, ref br, hb, c); y0 += o;
        Put2(h6, l6, ref yr, y0, ref br, hb, c); y0 += o;
        Put2(h7, l7, ref yr, y0, ref br, hb, c);
    }

    /// <summary>Rows r .. r + 3, columns c .. c + 31.</summary>
    private static void Tile4x32(float[] x, int r, int k, uint[] wt, int o, int c, float[]? bias, float[] y)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref uint wr = ref MemoryMarshal.GetArrayDataReference(wt);
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float br = ref Ref(bias);
        bool hb = bias is not null;
        nuint ks = (nuint)k;
        Vector512<float> h0 = default, l0 = default, h1 = default, l1 = default, h2 = default, l2 = default, h3 = default, l3 = default;
        nuint p0 = (nuint)(c / TileCols * k * Words), p1 = p0 + ks * Words;
        for (nuint i = 0; i < ks; i++, p0 += Words, p1 += Words)
        {
            var words = Pair(ref wr, p0, p1);
            var wh = TPanel.High(words);
            var wl = TPanel.Low(words);
            ref float xi = ref Unsafe.Add(ref xr, i);
            var b = Vector512.Create(xi);
            h0 = Fma(b, wh, h0); l0 = Fma(b, wl, l0);
            b = Vector512.Create(Unsafe.Add(ref xi, ks));
            h1 = Fma(b, wh, h1); l1 = Fma(b, wl, l1);
            b = Vector512.Create(Unsafe.Add(ref xi, 2 * ks));
            h2 = Fma(b, wh, h2); l2 = Fma(b, wl, l2);
            b = Vector512.Create(Unsafe.Add(ref xi, 3 * ks));
            h3 = Fma(b, wh, h3); l3 = Fma(b, wl, l3);
        }
        int y0 = r * o + c;
        Put2(h0, l0, ref yr, y0, ref br, hb, c); y0 += o;
        Put2(h1, l1, ref yr, y0, ref br, hb, c); y0 += o;
        Put2(h2, l2, ref yr, y0, ref br, hb, c); y0 += o;
        Put2(h3, l3, ref yr, y0, ref br, hb, c);
    }
}
