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
/// Σ x_q · q = 16 · Σ x_q · (h − 8) + Σ x_q · l, and both products are vpmaddubsw of an unsigned nibble by the signed
/// x_q. Each int16 lane sums half a group's products (a quad's first pair or its second): Σ x_q · l is at most
/// 16 · 15 · 127 = 30,480 &lt; 2^15. The high lanes start at −4 · Σ x_q (the group's
/// <see cref="Int8Activations.GroupSums"/>), so the two lanes of a column end at Σ x_q · (h − 8) between them and each
/// at Σ_half x_q · (h − 4) − 4 · Σ_other half x_q, at most 16 · 11 · 127 + 4 · 16 · 127 = 30,480 in size: int16 holds
/// every final sum, and vpaddw wraps, so the sums are exact whatever the partial sums did. vpmaddwd (by 16 and by 1)
/// then widens them to int32: the same exact int32 group sums as every other tile, folded in with one FMA per group
/// by d · s in group order, the same bits as <see cref="Element"/>. Two multiplies per 64 byte products, as the sign
/// trick's vpmaddubsw + vpmaddwd, but no vpsignb, no int32 add per quad, and no offset to subtract per group.
/// Where the CPU has AVX-512 VNNI (Linux x64), the emitted <see cref="Int8EmittedTile"/> takes this tile's place.
/// </summary>
internal static partial class Int8Gemm
{
    /// <summary>Whether <see cref="Tile8x16"/> serves batches here (<see cref="PanelPairs.WideTiles"/>).</summary>
    public static bool UsesWide => PanelPairs.WideTiles;

    /// <summary>acc + one quad of x_q (signed, at <paramref name="at"/>, broadcast) times 16 columns' nibbles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Dot16(Vector512<short> acc, Vector512<byte> nibbles, Vector512<sbyte> x) =>
        acc + Avx512BW.MultiplyAddAdjacent(nibbles, x);

    /// <summary>A group's Σ x_q · q per column as fp32, exactly: 16 · the high nibbles' sums (started at −4 · Σ x_q a
    /// lane) plus the low nibbles', widened by vpmaddwd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GroupSum16(Vector512<short> high, Vector512<short> low) =>
        Vector512.ConvertToSingle(Avx512BW.MultiplyAddAdjacent(high, Vector512.Create((short)16)) + Avx512BW.MultiplyAddAdjacent(low, Vector512.Create((short)1)));

    /// <summary>Row r's −4 · Σ x_q of a group (its <see cref="Int8Activations.GroupSums"/> entry at <paramref name="at"/>,
    /// an int16 pair) in every int16 lane: where its high-nibble sums start.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> HighStart(ref int groupSums, nuint at) => Vector512.Create(Unsafe.Add(ref groupSums, at)).AsInt16();

    /// <summary>Rows r .. r + 7 against panels c / 8 and c / 8 + 1.</summary>
    private static void Tile8x16<TScales>(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y)
        where TScales : struct, IInt8Scales
    {
        int groups = w.Groups;
        ref sbyte xr = ref MemoryMarshal.GetArrayDataReference(act.Signed);
        ref sbyte wr = ref MemoryMarshal.GetArrayDataReference(w.Quants);
        ref byte sr = ref TScales.Base(w);
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
            nuint eg = e0 + (nuint)g;
            var h0 = HighStart(ref gs, eg); var h1 = HighStart(ref gs, eg + ng); var h2 = HighStart(ref gs, eg + 2 * ng); var h3 = HighStart(ref gs, eg + 3 * ng);
            var h4 = HighStart(ref gs, eg + 4 * ng); var h5 = HighStart(ref gs, eg + 5 * ng); var h6 = HighStart(ref gs, eg + 6 * ng); var h7 = HighStart(ref gs, eg + 7 * ng);
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
            var d = TScales.Load16(ref sr, s0 + (nuint)(g * Panel), ps);
            f0 = Vector512.FusedMultiplyAdd(GroupSum16(h0, l0), d * Vector512.Create(Unsafe.Add(ref xs, eg)), f0);
            f1 = Vector512.FusedMultiplyAdd(GroupSum16(h1, l1), d * Vector512.Create(Unsafe.Add(ref xs, eg + ng)), f1);
            f2 = Vector512.FusedMultiplyAdd(GroupSum16(h2, l2), d * Vector512.Create(Unsafe.Add(ref xs, eg + 2 * ng)), f2);
            f3 = Vector512.FusedMultiplyAdd(GroupSum16(h3, l3), d * Vector512.Create(Unsafe.Add(ref xs, eg + 3 * ng)), f3);
            f4 = Vector512.FusedMultiplyAdd(GroupSum16(h4, l4), d * Vector512.Create(Unsafe.Add(ref xs, eg + 4 * ng)), f4);
            f5 = Vector512.FusedMultiplyAdd(GroupSum16(h5, l5), d * Vector512.Create(Unsafe.Add(ref xs, eg + 5 * ng)), f5);
            f6 = Vector512.FusedMultiplyAdd(GroupSum16(h6, l6), d * Vector512.Create(Unsafe.Add(ref xs, eg + 6 * ng)), f6);
            f7 = Vector512.FusedMultiplyAdd(GroupSum16(h7, l7), d * Vector512.Create(Unsafe.Add(ref xs, eg + 7 * ng)), f7);
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
