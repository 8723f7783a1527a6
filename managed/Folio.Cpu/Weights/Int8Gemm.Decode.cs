using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// The decode tiles: one, two or three rows against one panel, walking the panel's bytes as one sequential stream
/// prefetched <see cref="GroupsAhead"/> groups ahead. A chunk's panels lie back to back, so a walk over them panel
/// after panel reads one run of memory front to back, and its prefetches run on into the next panel. On the Zen 4 VM
/// of 2026-12-07 this read b8's int8 weights in ~2.7 ms a pass where the earlier tiles, four panels at once (four
/// streams a tile, each prefetched), took ~3.6 ms (decode-read 2 30 1 int8, medians of 4 alternated rounds:
/// bench/RESULTS.md).
/// The activations come as signed quads broadcast straight from <see cref="Int8Activations.Signed"/> (one load each),
/// and a tile keeps few enough values live that the JIT keeps them in ymm0–15, where vpsignb (VEX only) can reach them.
/// </summary>
internal static partial class Int8Gemm
{
    /// <summary>How many groups (256-byte panel slices, four cache lines) ahead the decode tiles prefetch their stream:
    /// 4 KiB. On the Zen 4 VM 4 to 64 read b8's weights alike (within the machine's noise); without prefetch the same
    /// walk read them ~15 % slower.</summary>
    private const int GroupsAhead = 16;

    /// <summary>Four signed activations x_q in every lane: one vpbroadcastd from memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> SignedQuad(ref sbyte x, nuint at) =>
        Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref x, at)))).AsSByte();

    /// <summary>Row r against the panel of column c: per group two quads a step (one cache line), into two int32
    /// accumulators added at the group's end (exact), then one FMA by d · s: <see cref="Element"/>'s bits.</summary>
    private static unsafe void Tile1x8<TScales>(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y)
        where TScales : struct, IInt8Scales
    {
        int groups = w.Groups;
        ref sbyte xr = ref MemoryMarshal.GetArrayDataReference(act.Signed);
        ref sbyte wr = ref MemoryMarshal.GetArrayDataReference(w.Quants);   // pinned (HugePages): prefetch addresses hold
        ref byte sr = ref TScales.Base(w);
        nuint p0 = (nuint)(c / Panel) * (nuint)groups * Int8Weight.GroupBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel);
        nuint xo = (nuint)(r * act.RowBytes);
        ref float xs = ref MemoryMarshal.GetArrayDataReference(act.GroupScales);
        nuint xs0 = (nuint)(r * groups);
        Vector256<float> f0 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> i0 = default, j0 = default;
            nuint wo = p0 + (nuint)g * Int8Weight.GroupBytes;
            nuint xg = xo + (nuint)(g * Group);
            for (int h = 0; h < Group / 8; h++)
            {
                nuint at = wo + (nuint)(h * 64);
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, at + GroupsAhead * Int8Weight.GroupBytes)));
                var xb = SignedQuad(ref xr, xg + (nuint)(h * 8));
                i0 = Dot(i0, Avx2.Abs(xb), xb, Vector256.LoadUnsafe(ref wr, at));
                xb = SignedQuad(ref xr, xg + (nuint)(h * 8 + 4));
                j0 = Dot(j0, Avx2.Abs(xb), xb, Vector256.LoadUnsafe(ref wr, at + 32));
            }
            var sx = GroupScale(ref xs, xs0 + (nuint)g);
            f0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i0 + j0), TScales.Load8(ref sr, s0 + (nuint)(g * Panel)) * sx, f0);
        }
        Put(f0, y, r * w.Rows + c, bias, c);
    }

    /// <summary>Rows r and r + 1 against the panel of column c: <see cref="Tile1x8"/>'s walk, each weight load serving
    /// both rows; each row's group sums and FMAs as that row's alone, so the same bits.</summary>
    private static unsafe void Tile2x8<TScales>(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y)
        where TScales : struct, IInt8Scales
    {
        int groups = w.Groups;
        ref sbyte xr = ref MemoryMarshal.GetArrayDataReference(act.Signed);
        ref sbyte wr = ref MemoryMarshal.GetArrayDataReference(w.Quants);
        ref byte sr = ref TScales.Base(w);
        nuint p0 = (nuint)(c / Panel) * (nuint)groups * Int8Weight.GroupBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel);
        nuint rb = (nuint)act.RowBytes, xo = (nuint)r * rb;
        ref float xs = ref MemoryMarshal.GetArrayDataReference(act.GroupScales);
        nuint gs = (nuint)groups, xs0 = (nuint)r * gs;
        Vector256<float> f0 = default, f1 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> i0 = default, j0 = default, i1 = default, j1 = default;
            nuint wo = p0 + (nuint)g * Int8Weight.GroupBytes;
            nuint xg = xo + (nuint)(g * Group);
            for (int h = 0; h < Group / 8; h++)
            {
                nuint at = wo + (nuint)(h * 64);
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, at + GroupsAhead * Int8Weight.GroupBytes)));
                var w0 = Vector256.LoadUnsafe(ref wr, at);
                var w1 = Vector256.LoadUnsafe(ref wr, at + 32);
                nuint xq = xg + (nuint)(h * 8);
                var xb = SignedQuad(ref xr, xq);
                i0 = Dot(i0, Avx2.Abs(xb), xb, w0);
                xb = SignedQuad(ref xr, xq + 4);
                j0 = Dot(j0, Avx2.Abs(xb), xb, w1);
                xb = SignedQuad(ref xr, xq + rb);
                i1 = Dot(i1, Avx2.Abs(xb), xb, w0);
                xb = SignedQuad(ref xr, xq + rb + 4);
                j1 = Dot(j1, Avx2.Abs(xb), xb, w1);
            }
            var d = TScales.Load8(ref sr, s0 + (nuint)(g * Panel));
            nuint xg0 = xs0 + (nuint)g;
            f0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i0 + j0), d * GroupScale(ref xs, xg0), f0);
            f1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i1 + j1), d * GroupScale(ref xs, xg0 + gs), f1);
        }
        int o = w.Rows, y0 = r * o + c;
        Put(f0, y, y0, bias, c);
        Put(f1, y, y0 + o, bias, c);
    }

    /// <summary>Rows r .. r + 2 against the panel of column c: <see cref="Tile2x8"/> with a third row, so that three
    /// rows read each weight once (a pair and then a single row read it twice).</summary>
    private static unsafe void Tile3x8<TScales>(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y)
        where TScales : struct, IInt8Scales
    {
        int groups = w.Groups;
        ref sbyte xr = ref MemoryMarshal.GetArrayDataReference(act.Signed);
        ref sbyte wr = ref MemoryMarshal.GetArrayDataReference(w.Quants);
        ref byte sr = ref TScales.Base(w);
        nuint p0 = (nuint)(c / Panel) * (nuint)groups * Int8Weight.GroupBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel);
        nuint rb = (nuint)act.RowBytes, xo = (nuint)r * rb;
        ref float xs = ref MemoryMarshal.GetArrayDataReference(act.GroupScales);
        nuint gs = (nuint)groups, xs0 = (nuint)r * gs;
        Vector256<float> f0 = default, f1 = default, f2 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> i0 = default, j0 = default, i1 = default, j1 = default, i2 = default, j2 = default;
            nuint wo = p0 + (nuint)g * Int8Weight.GroupBytes;
            nuint xg = xo + (nuint)(g * Group);
            for (int h = 0; h < Group / 8; h++)
            {
                nuint at = wo + (nuint)(h * 64);
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref wr, at + GroupsAhead * Int8Weight.GroupBytes)));
                var w0 = Vector256.LoadUnsafe(ref wr, at);
                var w1 = Vector256.LoadUnsafe(ref wr, at + 32);
                nuint xq = xg + (nuint)(h * 8);
                var xb = SignedQuad(ref xr, xq);
                i0 = Dot(i0, Avx2.Abs(xb), xb, w0);
                xb = SignedQuad(ref xr, xq + 4);
                j0 = Dot(j0, Avx2.Abs(xb), xb, w1);
                xb = SignedQuad(ref xr, xq + rb);
                i1 = Dot(i1, Avx2.Abs(xb), xb, w0);
                xb = SignedQuad(ref xr, xq + rb + 4);
                j1 = Dot(j1, Avx2.Abs(xb), xb, w1);
                xb = SignedQuad(ref xr, xq + 2 * rb);
                i2 = Dot(i2, Avx2.Abs(xb), xb, w0);
                xb = SignedQuad(ref xr, xq + 2 * rb + 4);
                j2 = Dot(j2, Avx2.Abs(xb), xb, w1);
            }
            var d = TScales.Load8(ref sr, s0 + (nuint)(g * Panel));
            nuint xg0 = xs0 + (nuint)g;
            f0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i0 + j0), d * GroupScale(ref xs, xg0), f0);
            f1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i1 + j1), d * GroupScale(ref xs, xg0 + gs), f1);
            f2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i2 + j2), d * GroupScale(ref xs, xg0 + 2 * gs), f2);
        }
        int o = w.Rows, y0 = r * o + c;
        Put(f0, y, y0, bias, c);
        Put(f1, y, y0 + o, bias, c);
        Put(f2, y, y0 + 2 * o, bias, c);
    }
}
