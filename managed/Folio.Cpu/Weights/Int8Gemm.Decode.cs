using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>The one-row tile (decode: one to three rows, each row on its own).</summary>
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
}
