using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// The 512-bit batch tile of <see cref="Int8Gemm"/>: 8 rows × 16 columns, for CPUs with AVX-512 BW but no AVX-VNNI
/// (AMD Zen 4/5 as their VMs expose them, and .NET 10 has no AVX-512 VNNI class). There the 256-bit sign-trick tile
/// runs at under half its multiply pipes: vpsignb has no EVEX form, so it reads ymm0–15 only and the JIT moves operands
/// down from ymm16–31 around every one, and AVX-512 has no vpsignb to widen it with. This tile needs no sign trick: it
/// splits each weight's unsigned u = q + 128 (q xor 0x80) into nibbles, u = 16 · h + l with h, l in [0, 15], so that
/// Σ x_q · q = 16 · Σ x_q · h + Σ x_q · l − 128 · Σ x_q, and both products are vpmaddubsw of an unsigned nibble by the
/// signed x_q: a pair sums to at most 2 · 15 · 127 and a whole group of 32 (8 quads) to 30,480 &lt; 2^15, so the int16
/// sums of a group are exact, then vpmaddwd (by 16 and by 1) widens them to int32 and
/// <see cref="Int8Activations.GroupSums"/> (128 · Σ x_q) comes off. The same exact int32 group sums as every other
/// tile, folded in with one FMA per group by d · s in group order: the same bits as <see cref="Element"/>.
/// Two multiplies per 64 byte products, as the sign trick's vpmaddubsw + vpmaddwd, but no vpsignb and no int32 add per quad.
/// </summary>
internal static partial class Int8Gemm
{
    /// <summary>Whether <see cref="Tile8x16"/> serves batches here (<see cref="PanelPairs.WideTiles"/>).</summary>
    public static bool UsesWide => PanelPairs.WideTiles;

    /// <summary>acc + one quad of x_q (signed, at <paramref name="at"/>, broadcast) times 16 columns' nibbles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Dot16(Vector512<short> acc, Vector512<byte> nibbles, Vector512<sbyte> x) =>
        acc + Avx512BW.MultiplyAddAdjacent(nibbles, x);

    /// <summary>A group's Σ x_q · q per column as fp32, exactly: 16 · the high nibbles' sums plus the low nibbles', widened
    /// by vpmaddwd, less 128 · Σ x_q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GroupSum16(Vector512<short> high, Vector512<short> low, ref int groupSums, nuint at) =>
        Vector512.ConvertToSingle(Avx512BW.MultiplyAddAdjacent(high, Vector512.Create((short)16)) + Avx512BW.MultiplyAddAdjacent(low, Vector512.Create((short)1))
            - Vector512.Create(Unsafe.Add(ref groupSums, at)));

    /// <summary>Rows r .. r + 7 against panels c / 8 and c / 8 + 1.</summary>
    private static void Tile8x16(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y)
    {
        int groups = w.Groups;
        ref sbyte xr = ref MemoryMarshal.GetArrayDataReference(act.Signed);
        ref sbyte wr = ref MemoryMarshal.GetArrayDataReference(w.Quants);
        ref ushort sr = ref MemoryMarshal.GetArrayDataReference(w.Scales);
        ref int gs = ref MemoryMarshal.GetArrayDataReference(act.GroupSums);
        ref float xs = ref MemoryMarshal.GetArrayDataReference(act.GroupScales);
        nuint panelBytes = (nuint)groups * Int8Weight.GroupBytes;
        nuint p0 = (nuint)(c / Panel) * panelBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel), ps = (nuint)(groups * Panel);
        nuint rb = (nuint)act.RowBytes, x0 = (nuint)r * rb, ng = (nuint)groups, e0 = (nuint)r * ng;
        var mask = Vector512.Create((byte)0x0F);
        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default, f4 = default, f5 = default, f6 = default, f7 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector512<short> h0 = default, h1 = default, h2 = default, h3 = default, h4 = default, h5 = default, h6 = default, h7 = default;
            Vector512<short> l0 = default, l1 = default, l2 = default, l3 = default, l4 = default, l5 = default, l6 = default, l7 = default;
            nuint wo = p0 + (nuint)g * Int8Weight.GroupBytes;
            nuint xg = x0 + (nuint)(g * Group);
            for (int t = 0; t < Group / 4; t++)
            {
                // u = q xor 0x80 differs from q only in bit 7: its low nibble is q's, its high nibble q's with bit 3
                // flipped, (q >> 4 & 0x0F) xor 0x08 in one vpternlogd (A & B ^ C: 0xF0 & 0xCC ^ 0xAA = 0x6A).
                var q = PanelPairs.Load(ref wr, wo + (nuint)(t * 32), panelBytes);
                var low = q & mask;
                var high = Avx512F.TernaryLogic((q.AsUInt16() >> 4).AsByte(), mask, Vector512.Create((byte)0x08), 0x6A);
                nuint xq = xg + (nuint)(t * 4);
                var x = PanelPairs.BroadcastQuad(ref xr, xq);
                h0 = Dot16(h0, high, x); l0 = Dot16(l0, low, x);
                x = PanelPairs.BroadcastQuad(ref xr, xq + rb);
                h1 = Dot16(h1, high, x); l1 = Dot16(l1, low, x);
                x = PanelPairs.BroadcastQuad(ref xr, xq + 2 * rb);
                h2 = Dot16(h2, high, x); l2 = Dot16(l2, low, x);
                x = PanelPairs.BroadcastQuad(ref xr, xq + 3 * rb);
                h3 = Dot16(h3, high, x); l3 = Dot16(l3, low, x);
                x = PanelPairs.BroadcastQuad(ref xr, xq + 4 * rb);
                h4 = Dot16(h4, high, x); l4 = Dot16(l4, low, x);
                x = PanelPairs.BroadcastQuad(ref xr, xq + 5 * rb);
                h5 = Dot16(h5, high, x); l5 = Dot16(l5, low, x);
                x = PanelPairs.BroadcastQuad(ref xr, xq + 6 * rb);
                h6 = Dot16(h6, high, x); l6 = Dot16(l6, low, x);
                x = PanelPairs.BroadcastQuad(ref xr, xq + 7 * rb);
                h7 = Dot16(h7, high, x); l7 = Dot16(l7, low, x);
            }
            var d = PanelPairs.Scales(ref Unsafe.Add(ref sr, s0 + (nuint)(g * Panel)), ps);
            nuint eg = e0 + (nuint)g;
            f0 = Vector512.FusedMultiplyAdd(GroupSum16(h0, l0, ref gs, eg), d * Vector512.Create(Unsafe.Add(ref xs, eg)), f0);
            f1 = Vector512.FusedMultiplyAdd(GroupSum16(h1, l1, ref gs, eg + ng), d * Vector512.Create(Unsafe.Add(ref xs, eg + ng)), f1);
            f2 = Vector512.FusedMultiplyAdd(GroupSum16(h2, l2, ref gs, eg + 2 * ng), d * Vector512.Create(Unsafe.Add(ref xs, eg + 2 * ng)), f2);
            f3 = Vector512.FusedMultiplyAdd(GroupSum16(h3, l3, ref gs, eg + 3 * ng), d * Vector512.Create(Unsafe.Add(ref xs, eg + 3 * ng)), f3);
            f4 = Vector512.FusedMultiplyAdd(GroupSum16(h4, l4, ref gs, eg + 4 * ng), d * Vector512.Create(Unsafe.Add(ref xs, eg + 4 * ng)), f4);
            f5 = Vector512.FusedMultiplyAdd(GroupSum16(h5, l5, ref gs, eg + 5 * ng), d * Vector512.Create(Unsafe.Add(ref xs, eg + 5 * ng)), f5);
            f6 = Vector512.FusedMultiplyAdd(GroupSum16(h6, l6, ref gs, eg + 6 * ng), d * Vector512.Create(Unsafe.Add(ref xs, eg + 6 * ng)), f6);
            f7 = Vector512.FusedMultiplyAdd(GroupSum16(h7, l7, ref gs, eg + 7 * ng), d * Vector512.Create(Unsafe.Add(ref xs, eg + 7 * ng)), f7);
        }
        int o = w.Rows, y0 = r * o + c;
        PanelPairs.Store(f0, y, y0, bias, c); y0 += o;
        PanelPairs.Store(f1, y, y0, bias, c); y0 += o;
        PanelPairs.Store(f2, y, y0, bias, c); y0 += o;
        PanelPairs.Store(f3, y, y0, bias, c); y0 += o;
        PanelPairs.Store(f4, y, y0, bias, c); y0 += o;
        PanelPairs.Store(f5, y, y0, bias, c); y0 += o;
        PanelPairs.Store(f6, y, y0, bias, c); y0 += o;
        PanelPairs.Store(f7, y, y0, bias, c);
    }
}
