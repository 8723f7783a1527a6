using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>The decode tiles: a single row against one panel at a time (one prefetched sequential stream), a pair of rows
/// against four panels (four prefetched streams).</summary>
internal static partial class Int4Gemm
{
    /// <summary>How many groups (128-byte panel slices, two cache lines) ahead the decode tiles prefetch each of their
    /// streams: 4 KiB a stream (chosen for the earlier four-stream one-row tile). On the Zen 4 VM of 2026-12-07 (decode-read 2 40 1 int4, 6 alternated rounds) 32 read b8's int4
    /// weights at a median 29.4 GB/s against 26.7 for 16 (int8's 2 KiB), faster in 5 of the 6 rounds; 4 to 64 were tried.
    /// Where 32 groups reach past a panel's end twice (k below 1,024: b8's k = 768 has 24), <see cref="PrefetchAt"/>'s
    /// addresses land a little past the same stream of the next tile, still in the lines the walk reads next.</summary>
    private const int GroupsAhead = 32;

    /// <summary>Where the pair tile's prefetches of group g read: group g + <see cref="GroupsAhead"/> of each stream; past a panel's
    /// end that offset lands in the next panel, and three panels further on is the same stream of the next tile (four
    /// panels on), so that a chunk's next tile finds its first groups in L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nuint PrefetchAt(nuint wo, int g, int groups, nuint panelBytes) =>
        wo + (nuint)GroupsAhead * Int4Weight.GroupBytes + (g + GroupsAhead >= groups ? 3 * panelBytes : 0);

    /// <summary>Row r against the panel of column c, its bytes read as one sequential stream prefetched
    /// <see cref="GroupsAhead"/> groups ahead (a chunk's panels lie back to back, so the walk panel after panel reads one
    /// run of memory, as <c>Int8Gemm.Decode.cs</c> does). On the Zen 4 VM of 2026-12-07 this read b8's int4 weights in
    /// ~1.4 ms a pass against ~2.3 ms for the earlier four-panel tile's four prefetched streams (bench/RESULTS.md,
    /// int8dec). The same group sums and FMAs as <see cref="Element"/>, so the same bits.</summary>
    private static unsafe void Tile1x8(Int8Activations act, int r, Int4Weight w, int c, float[]? bias, float[] y)
    {
        int groups = w.Groups;
        ref sbyte xr = ref MemoryMarshal.GetArrayDataReference(act.Signed);
        ref byte wr = ref MemoryMarshal.GetArrayDataReference(w.Nibbles);   // pinned (HugePages): prefetch addresses hold
        ref ushort sr = ref MemoryMarshal.GetArrayDataReference(w.Scales);
        ref int gs = ref MemoryMarshal.GetArrayDataReference(act.GroupSums);
        nuint p0 = (nuint)(c / Panel) * (nuint)groups * Int4Weight.GroupBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel);
        nuint xo = (nuint)(r * act.RowBytes), e0 = (nuint)(r * groups);
        Vector256<float> f0 = default;
        for (int g = 0; g < groups; g++)
        {
            nuint eg = e0 + (nuint)g;
            var i0 = Start(ref gs, eg);
            nuint wo = p0 + (nuint)g * Int4Weight.GroupBytes;
            nuint xg = xo + (nuint)(g * Group);
            nuint pf = wo + GroupsAhead * Int4Weight.GroupBytes;
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf)));
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + 64)));
            for (int t = 0; t < Group / 8; t++)
            {
                var b0 = Vector256.LoadUnsafe(ref wr, wo + (nuint)(t * 32));
                i0 = Dot(Dot(i0, Low(b0), Quad(ref xr, xg + (nuint)(t * 8))), High(b0), Quad(ref xr, xg + (nuint)(t * 8 + 4)));
            }
            f0 = Vector256.FusedMultiplyAdd(GroupSum(i0, ref gs, eg), Scales(ref Unsafe.Add(ref sr, s0 + (nuint)(g * Panel))), f0);
        }
        Put(f0, RowScale(act, r), y, r * w.Rows + c, bias, c);
    }

    /// <summary>Rows r and r + 1 against four panels from column c, each stream prefetched (<see cref="PrefetchAt"/>), each
    /// unpacked weight vector serving both rows (8 int and 8 fp32 accumulators). The same group sums and FMAs per row,
    /// so the same bits as either row alone.</summary>
    private static unsafe void Tile2x32(Int8Activations act, int r, Int4Weight w, int c, float[]? bias, float[] y)
    {
        int groups = w.Groups;
        ref sbyte xr = ref MemoryMarshal.GetArrayDataReference(act.Signed);
        ref byte wr = ref MemoryMarshal.GetArrayDataReference(w.Nibbles);
        ref ushort sr = ref MemoryMarshal.GetArrayDataReference(w.Scales);
        ref int gs = ref MemoryMarshal.GetArrayDataReference(act.GroupSums);
        nuint panelBytes = (nuint)groups * Int4Weight.GroupBytes;
        nuint p0 = (nuint)(c / Panel) * panelBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel), ps = (nuint)(groups * Panel);
        nuint rb = (nuint)act.RowBytes, xo = (nuint)r * rb, ng = (nuint)groups, e0 = (nuint)r * ng;
        Vector256<float> f00 = default, f01 = default, f02 = default, f03 = default, f10 = default, f11 = default, f12 = default, f13 = default;
        for (int g = 0; g < groups; g++)
        {
            nuint eg = e0 + (nuint)g;
            var start0 = Start(ref gs, eg);
            var start1 = Start(ref gs, eg + ng);
            Vector256<int> i00 = start0, i01 = start0, i02 = start0, i03 = start0, i10 = start1, i11 = start1, i12 = start1, i13 = start1;
            nuint wo = p0 + (nuint)g * Int4Weight.GroupBytes;
            nuint xg = xo + (nuint)(g * Group);
            nuint pf = PrefetchAt(wo, g, groups, panelBytes);
            for (int t = 0; t < Group / 8; t++)
            {
                nuint at = wo + (nuint)(t * 32);
                if ((t & 1) == 0)
                {
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + (at - wo))));
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + (at - wo) + panelBytes)));
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + (at - wo) + 2 * panelBytes)));
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + (at - wo) + 3 * panelBytes)));
                }
                var b0 = Vector256.LoadUnsafe(ref wr, at);
                var b1 = Vector256.LoadUnsafe(ref wr, at + panelBytes);
                var b2 = Vector256.LoadUnsafe(ref wr, at + 2 * panelBytes);
                var b3 = Vector256.LoadUnsafe(ref wr, at + 3 * panelBytes);
                var l0 = Low(b0); var h0 = High(b0); var l1 = Low(b1); var h1 = High(b1);
                var l2 = Low(b2); var h2 = High(b2); var l3 = Low(b3); var h3 = High(b3);
                nuint xq = xg + (nuint)(t * 8);
                var xl = Quad(ref xr, xq); var xh = Quad(ref xr, xq + 4);
                i00 = Dot(Dot(i00, l0, xl), h0, xh); i01 = Dot(Dot(i01, l1, xl), h1, xh);
                i02 = Dot(Dot(i02, l2, xl), h2, xh); i03 = Dot(Dot(i03, l3, xl), h3, xh);
                xl = Quad(ref xr, xq + rb); xh = Quad(ref xr, xq + rb + 4);
                i10 = Dot(Dot(i10, l0, xl), h0, xh); i11 = Dot(Dot(i11, l1, xl), h1, xh);
                i12 = Dot(Dot(i12, l2, xl), h2, xh); i13 = Dot(Dot(i13, l3, xl), h3, xh);
            }
            nuint sg = s0 + (nuint)(g * Panel);
            var d0 = Scales(ref Unsafe.Add(ref sr, sg));
            var d1 = Scales(ref Unsafe.Add(ref sr, sg + ps));
            var d2 = Scales(ref Unsafe.Add(ref sr, sg + 2 * ps));
            var d3 = Scales(ref Unsafe.Add(ref sr, sg + 3 * ps));
            f00 = Vector256.FusedMultiplyAdd(GroupSum(i00, ref gs, eg), d0, f00);
            f01 = Vector256.FusedMultiplyAdd(GroupSum(i01, ref gs, eg), d1, f01);
            f02 = Vector256.FusedMultiplyAdd(GroupSum(i02, ref gs, eg), d2, f02);
            f03 = Vector256.FusedMultiplyAdd(GroupSum(i03, ref gs, eg), d3, f03);
            f10 = Vector256.FusedMultiplyAdd(GroupSum(i10, ref gs, eg + ng), d0, f10);
            f11 = Vector256.FusedMultiplyAdd(GroupSum(i11, ref gs, eg + ng), d1, f11);
            f12 = Vector256.FusedMultiplyAdd(GroupSum(i12, ref gs, eg + ng), d2, f12);
            f13 = Vector256.FusedMultiplyAdd(GroupSum(i13, ref gs, eg + ng), d3, f13);
        }
        int o = w.Rows, y0 = r * o + c;
        float s = RowScale(act, r);
        Put(f00, s, y, y0, bias, c); Put(f01, s, y, y0 + 8, bias, c + 8); Put(f02, s, y, y0 + 16, bias, c + 16); Put(f03, s, y, y0 + 24, bias, c + 24);
        y0 += o;
        s = RowScale(act, r + 1);
        Put(f10, s, y, y0, bias, c); Put(f11, s, y, y0 + 8, bias, c + 8); Put(f12, s, y, y0 + 16, bias, c + 16); Put(f13, s, y, y0 + 24, bias, c + 24);
    }
}
