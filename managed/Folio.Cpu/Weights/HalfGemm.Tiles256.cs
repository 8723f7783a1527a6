using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// The 256-bit tiles of <see cref="HalfGemm{TPanel}"/>, for CPUs (and NativeAOT builds) where Vector512 is not
/// hardware-accelerated. A 256-bit load of words h .. h + 7 of a 32-column panel row (h = 0 or 8) widens to
/// columns h .. h + 7 (high halves) and h + 16 .. h + 23 (low halves), so a panel is two 16-column halves of
/// two 8-lane vectors each. Up to 6 rows × 16 (one half): 12 accumulators, each widened vector serving the tile's
/// rows, as Gemm's 256-bit tile. Each lane is still one column's FMA chain over k in order.
/// </summary>
internal static partial class HalfGemm<TPanel>
{
    private const int HalfWords = Words / 2;
    /// <summary>Words ahead (4 KiB) that a column block's first row tile hints into L2.</summary>
    private const nuint StreamAheadWords = DecodeStreamHints.L2Ahead / sizeof(uint);

    /// <summary>Rows r .. r + n − 1 (n from 2 to 6), columns c .. c + 31 (one panel), its two 16-column halves in turn.</summary>
    private static void PanelTile<TPrefetch>(int n, float[] x, int r, int k, AlignedPanels<uint> wt, int o, int c, float[]? bias, float[] y)
        where TPrefetch : struct, Gemm.IPrefetch
    {
        switch (n)
        {
            case 6: Half<SixRows, TPrefetch>(x, r, k, wt, o, c, bias, y); break;
            case 5: Half<FiveRows, TPrefetch>(x, r, k, wt, o, c, bias, y); break;
            case 4: Half<FourRows, TPrefetch>(x, r, k, wt, o, c, bias, y); break;
            case 3: Half<ThreeRows, TPrefetch>(x, r, k, wt, o, c, bias, y); break;
            default: Half<TwoRows, TPrefetch>(x, r, k, wt, o, c, bias, y); break;
        }
    }

    private static void Half<TRows, TPrefetch>(float[] x, int r, int k, AlignedPanels<uint> wt, int o, int c, float[]? bias, float[] y)
        where TRows : struct, IRowCount
        where TPrefetch : struct, Gemm.IPrefetch
    {
        // Only the first half hints: it walks the panel's every line (a 256-bit load reads half of one).
        Tile16<TRows, TPrefetch>(x, r, k, wt, o, c, 0, bias, y);
        Tile16<TRows, Gemm.NoPrefetch>(x, r, k, wt, o, c, HalfWords, bias, y);
    }

    /// <summary>Rows r .. r + TRows − 1 (at most 6: 12 accumulators), columns c + h .. c + h + 7 and
    /// c + h + 16 .. c + h + 23 of the panel at c (h = 0 or 8); where <typeparamref name="TPrefetch"/> is on, the panel
    /// hinted 4 KiB ahead into L2.</summary>
    private static unsafe void Tile16<TRows, TPrefetch>(float[] x, int r, int k, AlignedPanels<uint> wt, int o, int c, int h, float[]? bias, float[] y)
        where TRows : struct, IRowCount
        where TPrefetch : struct, Gemm.IPrefetch
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref uint wr = ref wt.Base;
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float br = ref Ref(bias);
        bool hb = bias is not null;
        nuint ks = (nuint)k;
        Vector256<float> h0 = default, l0 = default, h1 = default, l1 = default, h2 = default, l2 = default;
        Vector256<float> h3 = default, l3 = default, h4 = default, l4 = default, h5 = default, l5 = default;
        nuint p = (nuint)(c / TileCols) * ks * Words + (nuint)h;
        for (nuint i = 0; i < ks; i++, p += Words)
        {
            if (TPrefetch.On && Sse.IsSupported)
                Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p + StreamAheadWords)));
            var words = Vector256.LoadUnsafe(ref wr, p);
            var wh = TPanel.High(words);
            var wl = TPanel.Low(words);
            ref float xi = ref Unsafe.Add(ref xr, i);
            var b = Vector256.Create(xi);
            h0 = Fma(b, wh, h0); l0 = Fma(b, wl, l0);
            if (TRows.Count < 2)
                continue;
            b = Vector256.Create(Unsafe.Add(ref xi, ks));
            h1 = Fma(b, wh, h1); l1 = Fma(b, wl, l1);
            if (TRows.Count < 3)
                continue;
            b = Vector256.Create(Unsafe.Add(ref xi, 2 * ks));
            h2 = Fma(b, wh, h2); l2 = Fma(b, wl, l2);
            if (TRows.Count < 4)
                continue;
            b = Vector256.Create(Unsafe.Add(ref xi, 3 * ks));
            h3 = Fma(b, wh, h3); l3 = Fma(b, wl, l3);
            if (TRows.Count < 5)
                continue;
            b = Vector256.Create(Unsafe.Add(ref xi, 4 * ks));
            h4 = Fma(b, wh, h4); l4 = Fma(b, wl, l4);
            if (TRows.Count < 6)
                continue;
            b = Vector256.Create(Unsafe.Add(ref xi, 5 * ks));
            h5 = Fma(b, wh, h5); l5 = Fma(b, wl, l5);
        }
        int ch = c + h, cl = ch + 16;
        int y0 = r * o;
        Put(h0, ref yr, y0 + ch, ref br, hb, ch); Put(l0, ref yr, y0 + cl, ref br, hb, cl); y0 += o;
        if (TRows.Count < 2)
            return;
        Put(h1, ref yr, y0 + ch, ref br, hb, ch); Put(l1, ref yr, y0 + cl, ref br, hb, cl); y0 += o;
        if (TRows.Count < 3)
            return;
        Put(h2, ref yr, y0 + ch, ref br, hb, ch); Put(l2, ref yr, y0 + cl, ref br, hb, cl); y0 += o;
        if (TRows.Count < 4)
            return;
        Put(h3, ref yr, y0 + ch, ref br, hb, ch); Put(l3, ref yr, y0 + cl, ref br, hb, cl); y0 += o;
        if (TRows.Count < 5)
            return;
        Put(h4, ref yr, y0 + ch, ref br, hb, ch); Put(l4, ref yr, y0 + cl, ref br, hb, cl); y0 += o;
        if (TRows.Count < 6)
            return;
        Put(h5, ref yr, y0 + ch, ref br, hb, ch); Put(l5, ref yr, y0 + cl, ref br, hb, cl);
    }

    /// <summary>Row r, columns c .. c + 31 (one panel) in 256-bit steps; the stream hinted
    /// <see cref="DecodeStreamHints.L2Ahead"/> bytes ahead into L2 where <paramref name="hint"/> (the caller reads
    /// <see cref="DecodeStreamHints.On"/>, for the reason given there).</summary>
    private static unsafe void Tile1x32Narrow(float[] x, int r, int k, AlignedPanels<uint> wt, int o, int c, float[]? bias, float[] y, bool hint)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref uint wr = ref wt.Base;
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float br = ref Ref(bias);
        bool hb = bias is not null;
        nuint ks = (nuint)k;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        nuint p = (nuint)(c / TileCols) * ks * Words;
        for (nuint i = 0; i < ks; i++, p += Words)
        {
            if (hint && Sse.IsSupported)
                Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p + DecodeStreamHints.L2Ahead / sizeof(uint))));
            var b = Vector256.Create(Unsafe.Add(ref xr, i));
            var v0 = Vector256.LoadUnsafe(ref wr, p);
            var v1 = Vector256.LoadUnsafe(ref wr, p + HalfWords);
            a0 = Fma(b, TPanel.High(v0), a0); a1 = Fma(b, TPanel.High(v1), a1);
            a2 = Fma(b, TPanel.Low(v0), a2); a3 = Fma(b, TPanel.Low(v1), a3);
        }
        int y0 = r * o + c;
        Put(a0, ref yr, y0, ref br, hb, c); Put(a1, ref yr, y0 + 8, ref br, hb, c + 8);
        Put(a2, ref yr, y0 + 16, ref br, hb, c + 16); Put(a3, ref yr, y0 + 24, ref br, hb, c + 24);
    }

    /// <summary>Stores acc (+ bias[c .. c + 7]) at y[at], unchecked, as the 512-bit Put.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector256<float> acc, ref float y, int at, ref float bias, bool hasBias, int c)
    {
        if (hasBias)
            acc += Vector256.LoadUnsafe(ref bias, (nuint)c);
        acc.StoreUnsafe(ref y, (nuint)at);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma(Vector256<float> x, Vector256<float> w, Vector256<float> acc) =>
        Vector256.FusedMultiplyAdd(x, w, acc);
}
