using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>The vector tiles of <see cref="Int4Gemm"/> and their helpers (unchecked refs: <see cref="Int4Gemm.RunQuantized"/>
/// checks the extents once).</summary>
internal static partial class Int4Gemm
{
    /// <summary>Eight fp16 scales widened to fp32, sign kept (Q4_0 scales may be negative): the words sign-extended
    /// to 32 bits and shifted left 13 put the sign at bit 31, the exponent at 23–27 and the mantissa at 13–22; the
    /// sign's copies at 28–30 are masked off, and the product with 2^112 rebiases the exponent (exact for normals,
    /// subnormals and zero; the scales are finite).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scales(ref ushort at)
    {
        var words = Vector256.WidenLower(Vector128.LoadUnsafe(ref Unsafe.As<ushort, short>(ref at)).ToVector256Unsafe());
        return ((words << 13) & Vector256.Create(unchecked((int)0x8FFFFFFFu))).AsSingle() * Vector256.Create(MathF.ScaleB(1f, 112));
    }

    /// <summary>Stores scale · acc (+ bias[c ..]) at y[at], unchecked: a range check after the group loop is a call,
    /// and any call there makes the JIT keep the accumulators in memory across the loop (vector registers are all
    /// caller-saved on x64 Unix). <see cref="RunQuantized"/> checks the extents once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector256<float> acc, float scale, float[] y, int at, float[]? bias, int c)
    {
        var v = Vector256.Create(scale) * acc;
        if (bias is not null)
            v += Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(bias), (nuint)c);
        v.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(y), (nuint)at);
    }

    /// <summary>Row r's activation scale, unchecked (see <see cref="Put"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float RowScale(Int8Activations act, int r) => Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(act.Scales), r);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Low(Vector256<byte> b) => b & Vector256.Create((byte)0x0F);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> High(Vector256<byte> b) => (b.AsUInt16() >> 4).AsByte() & Vector256.Create((byte)0x0F);

    /// <summary>Four activations x_q in every lane, from <see cref="Int8Activations.Signed"/> (one broadcast load).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Quad(ref sbyte x, nuint at) =>
        Vector256.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref x, at)))).AsSByte();

    /// <summary>acc + Σ of nibble · x_q: with AVX-VNNI, vpdpbusd sums each lane's 4 products into int32 lanes; else
    /// vpmaddubsw sums pairs into the int16 halves of acc (cannot saturate, see the class comment), widened once per
    /// group by <see cref="GroupSum"/>. The JIT keeps one branch (IsSupported is a constant to it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> nibbles, Vector256<sbyte> x) =>
        AvxVnni.IsSupported
            ? AvxVnni.MultiplyWideningAndAdd(acc, nibbles, x)
            : (acc.AsInt16() + Avx2.MultiplyAddAdjacent(nibbles, x)).AsInt32();

    /// <summary>A group's integer accumulator at its start: with AVX-VNNI −8 · Σ x_q (row r's <see cref="Int8Activations.GroupSums"/>
    /// entry <paramref name="at"/>, negated), so that the int32 lane sums end at Σ x_q · q with no subtraction per
    /// accumulator; else zero (the int16 pair sums cannot hold it; <see cref="GroupSum"/> takes it out).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Start(ref int groupSums, nuint at) =>
        AvxVnni.IsSupported ? Vector256<int>.Zero - Vector256.Create(Unsafe.Add(ref groupSums, at)) : default;

    /// <summary>A group's Σ x_q · q as fp32, exactly: with AVX-VNNI the accumulator already is it (<see cref="Start"/>);
    /// else its int16 halves added by vpmaddwd by ones, less 8 · Σ x_q (entry <paramref name="at"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GroupSum(Vector256<int> acc, ref int groupSums, nuint at) =>
        Vector256.ConvertToSingle(AvxVnni.IsSupported
            ? acc
            : Avx2.MultiplyAddAdjacent(acc.AsInt16(), Vector256.Create((short)1)) - Vector256.Create(Unsafe.Add(ref groupSums, at)));

    /// <summary>Four rows against two panels: each unpacked weight vector serves four rows.</summary>
    private static void Tile4x16(Int8Activations act, int r, Int4Weight w, int c, float[]? bias, float[] y)
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
        Vector256<float> f00 = default, f01 = default, f10 = default, f11 = default, f20 = default, f21 = default, f30 = default, f31 = default;
        for (int g = 0; g < groups; g++)
        {
            nuint eg = e0 + (nuint)g;
            Vector256<int> i00 = Start(ref gs, eg), i10 = Start(ref gs, eg + ng), i20 = Start(ref gs, eg + 2 * ng), i30 = Start(ref gs, eg + 3 * ng);
            Vector256<int> i01 = i00, i11 = i10, i21 = i20, i31 = i30;
            nuint wo = p0 + (nuint)g * Int4Weight.GroupBytes;
            nuint xg = x0 + (nuint)(g * Group);
            for (int t = 0; t < Group / 8; t++)
            {
                nuint at = wo + (nuint)(t * 32);
                var b0 = Vector256.LoadUnsafe(ref wr, at);
                var b1 = Vector256.LoadUnsafe(ref wr, at + panelBytes);
                var l0 = Low(b0); var h0 = High(b0); var l1 = Low(b1); var h1 = High(b1);
                nuint xq = xg + (nuint)(t * 8);
                var xl = Quad(ref xr, xq); var xh = Quad(ref xr, xq + 4);
                i00 = Dot(Dot(i00, l0, xl), h0, xh); i01 = Dot(Dot(i01, l1, xl), h1, xh);
                xl = Quad(ref xr, xq + rb); xh = Quad(ref xr, xq + rb + 4);
                i10 = Dot(Dot(i10, l0, xl), h0, xh); i11 = Dot(Dot(i11, l1, xl), h1, xh);
                xl = Quad(ref xr, xq + 2 * rb); xh = Quad(ref xr, xq + 2 * rb + 4);
                i20 = Dot(Dot(i20, l0, xl), h0, xh); i21 = Dot(Dot(i21, l1, xl), h1, xh);
                xl = Quad(ref xr, xq + 3 * rb); xh = Quad(ref xr, xq + 3 * rb + 4);
                i30 = Dot(Dot(i30, l0, xl), h0, xh); i31 = Dot(Dot(i31, l1, xl), h1, xh);
            }
            nuint sg = s0 + (nuint)(g * Panel);
            var d0 = Scales(ref Unsafe.Add(ref sr, sg));
            var d1 = Scales(ref Unsafe.Add(ref sr, sg + ps));
            f00 = Vector256.FusedMultiplyAdd(GroupSum(i00, ref gs, eg), d0, f00); f01 = Vector256.FusedMultiplyAdd(GroupSum(i01, ref gs, eg), d1, f01);
            f10 = Vector256.FusedMultiplyAdd(GroupSum(i10, ref gs, eg + ng), d0, f10); f11 = Vector256.FusedMultiplyAdd(GroupSum(i11, ref gs, eg + ng), d1, f11);
            f20 = Vector256.FusedMultiplyAdd(GroupSum(i20, ref gs, eg + 2 * ng), d0, f20); f21 = Vector256.FusedMultiplyAdd(GroupSum(i21, ref gs, eg + 2 * ng), d1, f21);
            f30 = Vector256.FusedMultiplyAdd(GroupSum(i30, ref gs, eg + 3 * ng), d0, f30); f31 = Vector256.FusedMultiplyAdd(GroupSum(i31, ref gs, eg + 3 * ng), d1, f31);
        }
        int o = w.Rows, y0 = r * o + c;
        Put(f00, RowScale(act, r), y, y0, bias, c); Put(f01, RowScale(act, r), y, y0 + 8, bias, c + 8); y0 += o;
        Put(f10, RowScale(act, r + 1), y, y0, bias, c); Put(f11, RowScale(act, r + 1), y, y0 + 8, bias, c + 8); y0 += o;
        Put(f20, RowScale(act, r + 2), y, y0, bias, c); Put(f21, RowScale(act, r + 2), y, y0 + 8, bias, c + 8); y0 += o;
        Put(f30, RowScale(act, r + 3), y, y0, bias, c); Put(f31, RowScale(act, r + 3), y, y0 + 8, bias, c + 8);
    }
}
