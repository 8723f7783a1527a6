using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Runtime.CompilerServices;

namespace Folio.Cpu.Weights;

/// <summary>
/// The tiles of <see cref="HalfGemm{TPanel}"/>. Per k a tile loads one 16-word row of each panel it covers and
/// widens it to columns 0..15 (hi) and 16..31 (lo) of that panel; each accumulator lane is one column's chain.
/// 8 rows × 32: 16 accumulators, each widened weight vector serving 8 rows (16 FMAs per load and two widening
/// ops). 1 × 32: one panel, two chains per row (from memory one 64-byte line per 4-cycle FMA step, far above what a
/// core reads).
/// </summary>
internal static partial class HalfGemm<TPanel>
{
    /// <summary>Panel rows (k steps, 64 bytes each) ahead that a block's first tile prefetches: on the Zen 5 VM, b8's
    /// 32-row bf16 MatMuls (gemm-step) ran at 251–308 GFLOP/s without, 311–375 with 32–128 (bench/RESULTS.md).</summary>
    private const int PrefetchAhead = 64;

    /// <summary>Rows r .. r + 7, columns c .. c + 31 (one whole panel). <paramref name="prefetch"/>: the tile meets the
    /// panel first (its row block's first), so it prefetches the panel <see cref="PrefetchAhead"/> rows ahead into L1
    /// (past the panel's end: the next panel's start); the block's other tiles then find it in cache.</summary>
    private static unsafe void Tile8x32(float[] x, int r, int k, AlignedPanels<uint> wt, int o, int c, float[]? bias, float[] y, bool prefetch)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref uint wr = ref wt.Base;
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float br = ref Ref(bias);
        bool hb = bias is not null;
        nuint ks = (nuint)k;
        Vector512<float> h0 = default, l0 = default, h1 = default, l1 = default, h2 = default, l2 = default, h3 = default, l3 = default;
        Vector512<float> h4 = default, l4 = default, h5 = default, l5 = default, h6 = default, l6 = default, h7 = default, l7 = default;
        nuint p = (nuint)(c / TileCols) * ks * Words;
        for (nuint i = 0; i < ks; i++, p += Words)
        {
            // A hint: past the weight's last panel it reads nothing and cannot fault.
            if (prefetch)
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p + PrefetchAhead * Words)));
            var words = Vector512.LoadUnsafe(ref wr, p);
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
        Put(h0, ref yr, y0, ref br, hb, c); Put(l0, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h1, ref yr, y0, ref br, hb, c); Put(l1, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h2, ref yr, y0, ref br, hb, c); Put(l2, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h3, ref yr, y0, ref br, hb, c); Put(l3, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h4, ref yr, y0, ref br, hb, c); Put(l4, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h5, ref yr, y0, ref br, hb, c); Put(l5, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h6, ref yr, y0, ref br, hb, c); Put(l6, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h7, ref yr, y0, ref br, hb, c); Put(l7, ref yr, y0 + 16, ref br, hb, c + 16);
    }

    /// <summary>Rows r .. r + 3, columns c .. c + 31; <paramref name="prefetch"/> as in <see cref="Tile8x32"/>.</summary>
    private static unsafe void Tile4x32(float[] x, int r, int k, AlignedPanels<uint> wt, int o, int c, float[]? bias, float[] y, bool prefetch)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref uint wr = ref wt.Base;
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float br = ref Ref(bias);
        bool hb = bias is not null;
        nuint ks = (nuint)k;
        Vector512<float> h0 = default, l0 = default, h1 = default, l1 = default, h2 = default, l2 = default, h3 = default, l3 = default;
        nuint p = (nuint)(c / TileCols) * ks * Words;
        for (nuint i = 0; i < ks; i++, p += Words)
        {
            if (prefetch)
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p + PrefetchAhead * Words)));
            var words = Vector512.LoadUnsafe(ref wr, p);
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
        Put(h0, ref yr, y0, ref br, hb, c); Put(l0, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h1, ref yr, y0, ref br, hb, c); Put(l1, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h2, ref yr, y0, ref br, hb, c); Put(l2, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h3, ref yr, y0, ref br, hb, c); Put(l3, ref yr, y0 + 16, ref br, hb, c + 16);
    }

    /// <summary>Row r, columns c .. c + 31, hinting its stream ahead where <see cref="DecodeStreamHints.On"/>.</summary>
    private static unsafe void Tile1x32(float[] x, int r, int k, AlignedPanels<uint> wt, int o, int c, float[]? bias, float[] y)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref uint wr = ref wt.Base;
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float br = ref Ref(bias);
        bool hb = bias is not null, hint = DecodeStreamHints.On;   // read before the accumulators (DecodeStreamHints says why)
        nuint ks = (nuint)k;
        Vector512<float> h0 = default, l0 = default;
        nuint p = (nuint)(c / TileCols) * ks * Words;
        for (nuint i = 0; i < ks; i++, p += Words)
        {
            if (hint)
                Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p + DecodeStreamHints.L2Ahead / sizeof(uint))));
            var b = Vector512.Create(Unsafe.Add(ref xr, i));
            var v = Vector512.LoadUnsafe(ref wr, p);
            h0 = Fma(b, TPanel.High(v), h0); l0 = Fma(b, TPanel.Low(v), l0);
        }
        int y0 = r * o + c;
        Put(h0, ref yr, y0, ref br, hb, c); Put(l0, ref yr, y0 + 16, ref br, hb, c + 16);
    }
}
