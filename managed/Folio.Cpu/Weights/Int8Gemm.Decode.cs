using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>The decode tiles: one to three rows (a pair, then a single row) against four panels.</summary>
internal static partial class Int8Gemm
{
    /// <summary>Columns a one-row tile covers: four panels, four weight streams.</summary>
    private const int DecodeTileCols = 4 * Panel;

    /// <summary>How many groups (256-byte panel slices, four cache lines) ahead the one-row tile prefetches each of its
    /// four streams: 2 KiB a stream. 4, 8 and 16 read b8's weights alike on the Zen 5 VM (decode-read, within its noise);
    /// none at all read them at half the rate.</summary>
    private const int GroupsAhead = 8;

    /// <summary>One row against four panels from column c, the weights prefetched <see cref="GroupsAhead"/> groups ahead
    /// of each stream; past a panel's end, the same stream of the next tile (four panels on), so that a chunk's next tile
    /// finds its first groups in L1. The byte products and the group loop are <see cref="Tile1x8"/>'s (the same bits);
    /// the quad loop runs two quads a step, one cache line of each stream, into two sets of int32 accumulators added at
    /// the group's end (exact). Without prefetch the one-row walk read its weights at ~12 GB/s a core, half of what the
    /// fp32 tile reads (the hardware streamer restarts at every 4 KiB page, four streams a tile).</summary>
    private static unsafe void Tile1x32(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y)
    {
        int groups = w.Groups;
        ref byte xr = ref MemoryMarshal.GetArrayDataReference(act.Quants);
        ref sbyte wr = ref MemoryMarshal.GetArrayDataReference(w.Quants);   // pinned (HugePages): prefetch addresses hold
        ref ushort sr = ref MemoryMarshal.GetArrayDataReference(w.Scales);
        nuint panelBytes = (nuint)groups * Int8Weight.GroupBytes;
        nuint p0 = (nuint)(c / Panel) * panelBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel), ps = (nuint)(groups * Panel);
        nuint xo = (nuint)(r * act.RowBytes);
        ref float xs = ref MemoryMarshal.GetArrayDataReference(act.GroupScales);
        nuint xs0 = (nuint)(r * groups);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default, j0 = default, j1 = default, j2 = default, j3 = default;
            nuint wo = p0 + (nuint)g * Int8Weight.GroupBytes;
            nuint xg = xo + (nuint)(g * Group);
            // Group g + ahead of each stream; past the panel's end that offset lands in the next panel, and three panels
            // further on is the same stream of the next tile.
            nuint pf = wo + (nuint)GroupsAhead * Int8Weight.GroupBytes + (g + GroupsAhead >= groups ? 3 * panelBytes : 0);
            for (int h = 0; h < Group / 8; h++)
            {
                nuint line = (nuint)(h * 64);
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + line)));
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + line + panelBytes)));
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + line + 2 * panelBytes)));
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + line + 3 * panelBytes)));
                nuint at = wo + line;
                var xb = Quad(ref xr, xg + (nuint)(h * 8));
                var ax = Avx2.Abs(xb);
                i0 = Dot(i0, ax, xb, Vector256.LoadUnsafe(ref wr, at));
                i1 = Dot(i1, ax, xb, Vector256.LoadUnsafe(ref wr, at + panelBytes));
                i2 = Dot(i2, ax, xb, Vector256.LoadUnsafe(ref wr, at + 2 * panelBytes));
                i3 = Dot(i3, ax, xb, Vector256.LoadUnsafe(ref wr, at + 3 * panelBytes));
                xb = Quad(ref xr, xg + (nuint)(h * 8 + 4));
                ax = Avx2.Abs(xb);
                at += 32;
                j0 = Dot(j0, ax, xb, Vector256.LoadUnsafe(ref wr, at));
                j1 = Dot(j1, ax, xb, Vector256.LoadUnsafe(ref wr, at + panelBytes));
                j2 = Dot(j2, ax, xb, Vector256.LoadUnsafe(ref wr, at + 2 * panelBytes));
                j3 = Dot(j3, ax, xb, Vector256.LoadUnsafe(ref wr, at + 3 * panelBytes));
            }
            nuint sg = s0 + (nuint)(g * Panel);
            var sx = GroupScale(ref xs, xs0 + (nuint)g);
            f0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i0 + j0), Scales(ref Unsafe.Add(ref sr, sg)) * sx, f0);
            f1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i1 + j1), Scales(ref Unsafe.Add(ref sr, sg + ps)) * sx, f1);
            f2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i2 + j2), Scales(ref Unsafe.Add(ref sr, sg + 2 * ps)) * sx, f2);
            f3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i3 + j3), Scales(ref Unsafe.Add(ref sr, sg + 3 * ps)) * sx, f3);
        }
        int y0 = r * w.Rows + c;
        Put(f0, y, y0, bias, c);
        Put(f1, y, y0 + 8, bias, c + 8);
        Put(f2, y, y0 + 16, bias, c + 16);
        Put(f3, y, y0 + 24, bias, c + 24);
    }

    /// <summary>Rows r and r + 1 against four panels from column c: <see cref="Tile1x32"/>'s walk and prefetch, each
    /// weight load serving both rows (one quad a step: 16 int32 and 8 fp32 accumulators). The same group sums and
    /// FMAs per row, so the same bits as either row alone.</summary>
    private static unsafe void Tile2x32(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y)
    {
        int groups = w.Groups;
        ref byte xr = ref MemoryMarshal.GetArrayDataReference(act.Quants);
        ref sbyte wr = ref MemoryMarshal.GetArrayDataReference(w.Quants);
        ref ushort sr = ref MemoryMarshal.GetArrayDataReference(w.Scales);
        nuint panelBytes = (nuint)groups * Int8Weight.GroupBytes;
        nuint p0 = (nuint)(c / Panel) * panelBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel), ps = (nuint)(groups * Panel);
        nuint rb = (nuint)act.RowBytes, xo = (nuint)r * rb;
        ref float xs = ref MemoryMarshal.GetArrayDataReference(act.GroupScales);
        nuint gs = (nuint)groups, xs0 = (nuint)r * gs;
        Vector256<float> f00 = default, f01 = default, f02 = default, f03 = default, f10 = default, f11 = default, f12 = default, f13 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> i00 = default, i01 = default, i02 = default, i03 = default, i10 = default, i11 = default, i12 = default, i13 = default;
            nuint wo = p0 + (nuint)g * Int8Weight.GroupBytes;
            nuint xg = xo + (nuint)(g * Group);
            nuint pf = wo + (nuint)GroupsAhead * Int8Weight.GroupBytes + (g + GroupsAhead >= groups ? 3 * panelBytes : 0);
            for (int q = 0; q < Group / 4; q++)
            {
                nuint at = wo + (nuint)(q * 32);
                if ((q & 1) == 0)
                {
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + (at - wo))));
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + (at - wo) + panelBytes)));
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + (at - wo) + 2 * panelBytes)));
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, pf + (at - wo) + 3 * panelBytes)));
                }
                var w0 = Vector256.LoadUnsafe(ref wr, at);
                var w1 = Vector256.LoadUnsafe(ref wr, at + panelBytes);
                var w2 = Vector256.LoadUnsafe(ref wr, at + 2 * panelBytes);
                var w3 = Vector256.LoadUnsafe(ref wr, at + 3 * panelBytes);
                nuint xq = xg + (nuint)(q * 4);
                var b = Quad(ref xr, xq);
                var a = Avx2.Abs(b);
                i00 = Dot(i00, a, b, w0); i01 = Dot(i01, a, b, w1); i02 = Dot(i02, a, b, w2); i03 = Dot(i03, a, b, w3);
                b = Quad(ref xr, xq + rb);
                a = Avx2.Abs(b);
                i10 = Dot(i10, a, b, w0); i11 = Dot(i11, a, b, w1); i12 = Dot(i12, a, b, w2); i13 = Dot(i13, a, b, w3);
            }
            nuint sg = s0 + (nuint)(g * Panel);
            var d0 = Scales(ref Unsafe.Add(ref sr, sg));
            var d1 = Scales(ref Unsafe.Add(ref sr, sg + ps));
            var d2 = Scales(ref Unsafe.Add(ref sr, sg + 2 * ps));
            var d3 = Scales(ref Unsafe.Add(ref sr, sg + 3 * ps));
            var s = GroupScale(ref xs, xs0 + (nuint)g);
            f00 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i00), d0 * s, f00);
            f01 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i01), d1 * s, f01);
            f02 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i02), d2 * s, f02);
            f03 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i03), d3 * s, f03);
            s = GroupScale(ref xs, xs0 + gs + (nuint)g);
            f10 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i10), d0 * s, f10);
            f11 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i11), d1 * s, f11);
            f12 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i12), d2 * s, f12);
            f13 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i13), d3 * s, f13);
        }
        int o = w.Rows, y0 = r * o + c;
        Put(f00, y, y0, bias, c); Put(f01, y, y0 + 8, bias, c + 8); Put(f02, y, y0 + 16, bias, c + 16); Put(f03, y, y0 + 24, bias, c + 24);
        y0 += o;
        Put(f10, y, y0, bias, c); Put(f11, y, y0 + 8, bias, c + 8); Put(f12, y, y0 + 16, bias, c + 16); Put(f13, y, y0 + 24, bias, c + 24);
    }
}
