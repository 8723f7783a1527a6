using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// The 512-bit tiles of <see cref="HalfGemm{TPanel}"/> for row blocks of at least <see cref="WidenRows"/> rows in a
/// MatMul of at most <see cref="WidenMaxRows"/>: a
/// panel's k slice is widened to fp32 once, into a 64-byte-aligned scratch of <see cref="KBlock"/> × 32 floats on
/// the stack (16 KiB, in L1 beside the block's x slice), and every 8- and 4-row tile of the block runs on it as the
/// fp32 tiles do: two loads per k instead of one load and two (bf16) or ~ten (fp16) widening ops. In the in-register
/// tiles those ops share ports 0 and 5 with the FMAs (18 vector ops per 16 FMAs for bf16); here the widening is paid
/// once per slice for all rows (at 32 rows: two ops per 64 FMAs). The widened value is the same exact fp32, each
/// lane the same chain: the bits of the in-register tiles.
/// </summary>
internal static partial class HalfGemm<TPanel>
{
    /// <summary>Rows a block needs before widening to scratch beats widening in registers: below it, the two stores
    /// and two reloads per k serve too few FMAs.</summary>
    private const int WidenRows = 16;

    /// <summary>The most rows a MatMul may have to take the widened tiles (decode batches). A prefill's many row blocks
    /// each re-widened every slice and swept x per panel, and measured slower than the register-widening tiles over
    /// whole k with the column block's panels in L2 (b8's 2,048-row prefill step at two threads: 0.84–0.95× old's
    /// tok/s with them, 0.98–1.08× without; bench/RESULTS.md).</summary>
    private const int WidenMaxRows = 64;

    /// <summary>Whether decode blocks widen to scratch on this CPU. On Intel (where this path was measured) the in-register
    /// widening ops share ports 0 and 5 with the FMAs. On AMD Zen 5 (the development VM) bf16's two ops a k run beside
    /// them, and whole-k tiles widening in registers ran b8's 32-row MatMuls (gemm-step) at 310–319 GFLOP/s against
    /// 273–280 here, 1.12–1.14×; so there only fp16 (about ten ops a k) widens to scratch (bench/RESULTS.md).</summary>
    private static readonly bool DecodeWidensToScratch = typeof(TPanel) != typeof(Bf16Panel) || !CpuVendor.IsAmd;

    /// <summary>Rows [r0, r1) (a multiple of 4, at least <see cref="WidenRows"/>, at most <see cref="RowBlock"/>) over
    /// the whole panels in [c0, full): per panel, k in slices of <see cref="KBlock"/>, each slice widened once into
    /// scratch and run by every 8- and 4-row tile of the block before the next; the chains continue from the partial
    /// sums stored in y (fp32 stored and reloaded exactly: one pass's bits). The slice's widened weights and the
    /// block's x slice stay in L1 while all its rows use them.</summary>
    [SkipLocalsInit]
    private static unsafe void Rows512Widened(float[] x, int r0, int r1, int k, AlignedPanels<uint> wt, int o, int c0, int full, float[]? bias, float[] y)
    {
        byte* raw = stackalloc byte[KBlock * TileCols * sizeof(float) + 64];
        ref float s = ref *(float*)(((nint)raw + 63) & ~(nint)63);   // whole cache lines: no split loads
        ref uint wr = ref wt.Base;
        int r8 = r0 + (r1 - r0) / 8 * 8;
        for (int c = c0; c < full; c += TileCols)
        {
            nuint panel = (nuint)(c / TileCols) * (nuint)k * Words;
            for (int k0 = 0; k0 < k; k0 += KBlock)
            {
                int k1 = Math.Min(k, k0 + KBlock);
                nuint p = panel + (nuint)k0 * Words;
                for (nuint i = 0; i < (nuint)(k1 - k0); i++, p += Words)
                {
                    // The next slice (this panel's, or the next panel's first: panels are contiguous) on its way to
                    // L2 while the tiles run this one: read in one burst, a slice would otherwise wait on memory.
                    if (Sse.IsSupported)
                        Sse.Prefetch1(Unsafe.AsPointer(ref Unsafe.Add(ref wr, p + KBlock * Words)));
                    var words = Vector512.LoadUnsafe(ref wr, p);
                    TPanel.High(words).StoreUnsafe(ref s, i * TileCols);
                    TPanel.Low(words).StoreUnsafe(ref s, i * TileCols + 16);
                }
                for (int r = r0; r < r8; r += 8)
                    Tile8x32(x, r, k, k0, k1, ref s, o, c, bias, y);
                if (r8 < r1)
                    Tile4x32(x, r8, k, k0, k1, ref s, o, c, bias, y);
            }
        }
    }

    /// <summary>Rows r .. r + 7, columns c .. c + 31, k in [k0, k1) from the widened slice <paramref name="s"/>
    /// (32 floats per k, from k0), continuing the chains from the partial sums a call for [.., k0) stored in y; + bias when k1 = k.</summary>
    private static void Tile8x32(float[] x, int r, int k, int k0, int k1, ref float s, int o, int c, float[]? bias, float[] y)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float br = ref Ref(bias);
        bool hb = bias is not null && k1 == k;
        nuint ks = (nuint)k;
        Vector512<float> h0 = default, l0 = default, h1 = default, l1 = default, h2 = default, l2 = default, h3 = default, l3 = default;
        Vector512<float> h4 = default, l4 = default, h5 = default, l5 = default, h6 = default, l6 = default, h7 = default, l7 = default;
        int y0 = r * o + c;
        if (k0 > 0)
        {
            nuint at = (nuint)y0, os = (nuint)o;
            h0 = Vector512.LoadUnsafe(ref yr, at); l0 = Vector512.LoadUnsafe(ref yr, at + 16); at += os;
            h1 = Vector512.LoadUnsafe(ref yr, at); l1 = Vector512.LoadUnsafe(ref yr, at + 16); at += os;
            h2 = Vector512.LoadUnsafe(ref yr, at); l2 = Vector512.LoadUnsafe(ref yr, at + 16); at += os;
            h3 = Vector512.LoadUnsafe(ref yr, at); l3 = Vector512.LoadUnsafe(ref yr, at + 16); at += os;
            h4 = Vector512.LoadUnsafe(ref yr, at); l4 = Vector512.LoadUnsafe(ref yr, at + 16); at += os;
            h5 = Vector512.LoadUnsafe(ref yr, at); l5 = Vector512.LoadUnsafe(ref yr, at + 16); at += os;
            h6 = Vector512.LoadUnsafe(ref yr, at); l6 = Vector512.LoadUnsafe(ref yr, at + 16); at += os;
            h7 = Vector512.LoadUnsafe(ref yr, at); l7 = Vector512.LoadUnsafe(ref yr, at + 16);
        }
        nuint p = 0;
        for (nuint i = (nuint)k0; i < (nuint)k1; i++, p += TileCols)
        {
            var wh = Vector512.LoadUnsafe(ref s, p);
            var wl = Vector512.LoadUnsafe(ref s, p + 16);
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
        Put(h0, ref yr, y0, ref br, hb, c); Put(l0, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h1, ref yr, y0, ref br, hb, c); Put(l1, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h2, ref yr, y0, ref br, hb, c); Put(l2, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h3, ref yr, y0, ref br, hb, c); Put(l3, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h4, ref yr, y0, ref br, hb, c); Put(l4, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h5, ref yr, y0, ref br, hb, c); Put(l5, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h6, ref yr, y0, ref br, hb, c); Put(l6, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h7, ref yr, y0, ref br, hb, c); Put(l7, ref yr, y0 + 16, ref br, hb, c + 16);
    }

    /// <summary>Rows r .. r + 3, columns c .. c + 31, k in [k0, k1) from the widened slice, as the 8-row tile.</summary>
    private static void Tile4x32(float[] x, int r, int k, int k0, int k1, ref float s, int o, int c, float[]? bias, float[] y)
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), r * k);
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        ref float br = ref Ref(bias);
        bool hb = bias is not null && k1 == k;
        nuint ks = (nuint)k;
        Vector512<float> h0 = default, l0 = default, h1 = default, l1 = default, h2 = default, l2 = default, h3 = default, l3 = default;
        int y0 = r * o + c;
        if (k0 > 0)
        {
            nuint at = (nuint)y0, os = (nuint)o;
            h0 = Vector512.LoadUnsafe(ref yr, at); l0 = Vector512.LoadUnsafe(ref yr, at + 16); at += os;
            h1 = Vector512.LoadUnsafe(ref yr, at); l1 = Vector512.LoadUnsafe(ref yr, at + 16); at += os;
            h2 = Vector512.LoadUnsafe(ref yr, at); l2 = Vector512.LoadUnsafe(ref yr, at + 16); at += os;
            h3 = Vector512.LoadUnsafe(ref yr, at); l3 = Vector512.LoadUnsafe(ref yr, at + 16);
        }
        nuint p = 0;
        for (nuint i = (nuint)k0; i < (nuint)k1; i++, p += TileCols)
        {
            var wh = Vector512.LoadUnsafe(ref s, p);
            var wl = Vector512.LoadUnsafe(ref s, p + 16);
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
        Put(h0, ref yr, y0, ref br, hb, c); Put(l0, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h1, ref yr, y0, ref br, hb, c); Put(l1, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h2, ref yr, y0, ref br, hb, c); Put(l2, ref yr, y0 + 16, ref br, hb, c + 16); y0 += o;
        Put(h3, ref yr, y0, ref br, hb, c); Put(l3, ref yr, y0 + 16, ref br, hb, c + 16);
    }
}
