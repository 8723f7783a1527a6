using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// The 512-bit tile of <see cref="Int4Gemm"/>: 8 rows × 16 columns, for CPUs with AVX-512 BW but no AVX-VNNI (AMD Zen 4/5
/// as their VMs expose them: `avx512_vnni` without `avx_vnni`, and .NET 10 has no AVX-512 VNNI class). There the
/// 256-bit tiles spend two vector ops (vpmaddubsw, vpaddw) per 32 byte products, and a batch's MatMul is bound by the
/// vector pipes: one zmm vpmaddubsw does 64 products for the same two ops, and 8 rows unpack each weight vector once for
/// twice the rows of <see cref="Tile4x16"/>. A zmm holds block t of two neighbouring panels (the low 256 bits
/// panel p, the high panel p + 1: 16 columns × 4 inputs), so one broadcast quad of x_q serves all 16 columns.
/// The arithmetic is the AVX2 path's: int16 pair sums (no saturation, see <see cref="Int4Gemm"/>), vpmaddwd by ones
/// and 8 · Σ x_q taken out per group, one FMA per group in group order: the same bits as every other tile.
/// Where the CPU has AVX-512 VNNI (Linux x64), the emitted <see cref="Int4EmittedTile"/> takes this tile's place.
/// </summary>
internal static partial class Int4Gemm
{
    /// <summary>Whether <see cref="Tile8x16"/> serves batches here (<see cref="PanelPairs.WideTiles"/>).</summary>
    public static bool UsesWide => PanelPairs.WideTiles;

    /// <summary>acc + the products of one row's two quads (x_q at <paramref name="at"/> and at + 4) with the low and
    /// high nibbles: two vpmaddubsw, their int16 pair sums added in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Dot16(Vector512<short> acc, Vector512<byte> low, Vector512<byte> high, ref sbyte x, nuint at)
    {
        return acc + Avx512BW.MultiplyAddAdjacent(low, PanelPairs.BroadcastQuad(ref x, at))
            + Avx512BW.MultiplyAddAdjacent(high, PanelPairs.BroadcastQuad(ref x, at + 4));
    }

    /// <summary>A group's Σ x_q · q per column as fp32, exactly: the int16 halves added by vpmaddwd, less 8 · Σ x_q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GroupSum16(Vector512<short> acc, ref int groupSums, nuint at) =>
        Vector512.ConvertToSingle(Avx512BW.MultiplyAddAdjacent(acc, Vector512.Create((short)1)) - Vector512.Create(Unsafe.Add(ref groupSums, at)));

    /// <summary>Stores scale · acc (+ bias[c ..]) at y[at], unchecked (<see cref="PanelPairs.Store"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put16(Vector512<float> acc, float scale, float[] y, int at, float[]? bias, int c) =>
        PanelPairs.Store(Vector512.Create(scale) * acc, y, at, bias, c);

    /// <summary>Rows r .. r + 7 against panels c / 8 and c / 8 + 1.</summary>
    private static void Tile8x16(Int8Activations act, int r, Int4Weight w, int c, float[]? bias, float[] y)
    {
        int groups = w.Groups;
        ref sbyte xr = ref MemoryMarshal.GetArrayDataReference(act.Signed);
        ref byte wr = ref MemoryMarshal.GetArrayDataReference(w.Nibbles);
        ref ushort sr = ref MemoryMarshal.GetArrayDataReference(w.Scales);
        ref int gs = ref MemoryMarshal.GetArrayDataReference(act.GroupSums);
        nuint panelBytes = (nuint)groups * Int4Weight.GroupBytes;
        nuint p0 = (nuint)(c / Panel) * panelBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel), ps = (nuint)(groups * Panel);
        nuint rb = (nuint)act.RowBytes, x0 = (nuint)r * rb, ng = (nuint)groups, e0 = (nuint)r * ng;
        var mask = Vector512.Create((byte)0x0F);
        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default, f4 = default, f5 = default, f6 = default, f7 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector512<short> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            nuint wo = p0 + (nuint)g * Int4Weight.GroupBytes;
            nuint xg = x0 + (nuint)(g * Group);
            for (int t = 0; t < Group / 8; t++)
            {
                nuint at = wo + (nuint)(t * 32);
                var b = PanelPairs.Load(ref wr, at, panelBytes);
                var low = b & mask;
                var high = (b.AsUInt16() >> 4).AsByte() & mask;
                nuint xq = xg + (nuint)(t * 8);
                a0 = Dot16(a0, low, high, ref xr, xq);
                a1 = Dot16(a1, low, high, ref xr, xq + rb);
                a2 = Dot16(a2, low, high, ref xr, xq + 2 * rb);
                a3 = Dot16(a3, low, high, ref xr, xq + 3 * rb);
                a4 = Dot16(a4, low, high, ref xr, xq + 4 * rb);
                a5 = Dot16(a5, low, high, ref xr, xq + 5 * rb);
                a6 = Dot16(a6, low, high, ref xr, xq + 6 * rb);
                a7 = Dot16(a7, low, high, ref xr, xq + 7 * rb);
            }
            var d = PanelPairs.Scales(ref Unsafe.Add(ref sr, s0 + (nuint)(g * Panel)), ps);
            nuint eg = e0 + (nuint)g;
            f0 = Vector512.FusedMultiplyAdd(GroupSum16(a0, ref gs, eg), d, f0);
            f1 = Vector512.FusedMultiplyAdd(GroupSum16(a1, ref gs, eg + ng), d, f1);
            f2 = Vector512.FusedMultiplyAdd(GroupSum16(a2, ref gs, eg + 2 * ng), d, f2);
            f3 = Vector512.FusedMultiplyAdd(GroupSum16(a3, ref gs, eg + 3 * ng), d, f3);
            f4 = Vector512.FusedMultiplyAdd(GroupSum16(a4, ref gs, eg + 4 * ng), d, f4);
            f5 = Vector512.FusedMultiplyAdd(GroupSum16(a5, ref gs, eg + 5 * ng), d, f5);
            f6 = Vector512.FusedMultiplyAdd(GroupSum16(a6, ref gs, eg + 6 * ng), d, f6);
            f7 = Vector512.FusedMultiplyAdd(GroupSum16(a7, ref gs, eg + 7 * ng), d, f7);
        }
        int o = w.Rows, y0 = r * o + c;
        Put16(f0, RowScale(act, r), y, y0, bias, c); y0 += o;
        Put16(f1, RowScale(act, r + 1), y, y0, bias, c); y0 += o;
        Put16(f2, RowScale(act, r + 2), y, y0, bias, c); y0 += o;
        Put16(f3, RowScale(act, r + 3), y, y0, bias, c); y0 += o;
        Put16(f4, RowScale(act, r + 4), y, y0, bias, c); y0 += o;
        Put16(f5, RowScale(act, r + 5), y, y0, bias, c); y0 += o;
        Put16(f6, RowScale(act, r + 6), y, y0, bias, c); y0 += o;
        Put16(f7, RowScale(act, r + 7), y, y0, bias, c);
    }
}
