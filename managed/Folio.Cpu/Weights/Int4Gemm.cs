using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// y[r, o] = s[r] · Σ_g d[o, g] · Σ_{i in g} x_q[r, i] · q[o, i] (+ bias[o]) over an <see cref="Int4Weight"/> and the
/// row-quantized input (<see cref="Int8Activations"/>: x_q in [-127, 127], stored + 128). The nibbles are unpacked
/// in registers (a mask and a 16-bit shift give q + 8 as unsigned bytes) and multiplied with x_q by vpmaddubsw
/// (AVX2: unsigned × signed byte pairs summed to int16; |(q + 8) · x_q| ≤ 15 · 127, so the eight pair sums of a
/// group's lane stay below 2^15 and nothing saturates), then vpmaddwd widens the group's int16 sums to int32 and
/// 8 · Σ x_q (<see cref="Int8Activations.GroupSums"/>) is taken out, leaving Σ x_q · q exactly. Where the CPU has
/// AVX-VNNI (.NET 10's AvxVnni, 256-bit; it has no AVX-512 VNNI class) vpdpbusd does products and sums to int32 in
/// one instruction instead; the integer sums are exact either way. Each group sum is converted to fp32 and folded in with
/// one FMA per group in group order, so an element's value does not depend on the tile, thread or batch, and
/// the portable path (scalar, same order) gives the same bits.
/// Tiles: 4 rows × 16 columns (batches), 1 × 32 (decode), 1 × 8; columns of a partial last panel go scalar.
/// </summary>
internal static class Int4Gemm
{
    private const int Panel = Int4Weight.PanelCols;
    private const int Group = Int4Weight.GroupSize;

    public static bool UsesVectors => Avx2.IsSupported;

    public static string KernelName => UsesVectors
        ? AvxVnni.IsSupported
            ? "int4 weights (group 32, fp16 scales) x int8 activations per row, nibbles unpacked in registers, AVX-VNNI vpdpbusd"
            : "int4 weights (group 32, fp16 scales) x int8 activations per row, nibbles unpacked in registers, AVX2 vpmaddubsw"
        : "int4 weights (group 32, fp16 scales) x int8 activations per row, portable scalar";

    public static void Run(float[] x, int rows, Int4Weight w, float[]? bias, float[] y, ParallelRunner runner, Int8Activations act)
    {
        act.Quantize(x, rows, w.Cols, groupSums: true);
        RunQuantized(act, rows, w, bias, y, runner, UsesVectors);
    }

    /// <summary>The GEMM on activations already quantized (with group sums); <paramref name="vectors"/> false forces
    /// the portable path (the tests compare the two).</summary>
    internal static void RunQuantized(Int8Activations act, int rows, Int4Weight w, float[]? bias, float[] y, ParallelRunner runner, bool vectors)
    {
        int outCols = w.Rows;
        if (act.Scales.Length < rows || act.Quants.Length < (long)rows * act.RowBytes || y.Length < (long)rows * outCols || (bias is not null && bias.Length < outCols))
            throw new ArgumentException($"GEMM operands too short for {rows} rows x [{outCols}, {w.Cols}]");
        int blocks = (outCols + 31) / 32;
        int chunks = Math.Max(1, Math.Min(runner.Threads * 4, blocks));
        int perChunk = (blocks + chunks - 1) / chunks * 32;
        chunks = (outCols + perChunk - 1) / perChunk;
        long work = (long)rows * w.Cols * outCols / 4;
        runner.For(chunks, work, new Job(act, rows, w, perChunk, bias, y, vectors), static (j, chunk) =>
        {
            int c0 = chunk * j.PerChunk;
            Columns(j.Act, j.Rows, j.W, c0, Math.Min(j.W.Rows, c0 + j.PerChunk), j.Bias, j.Y, j.Vectors);
        });
    }

    private static void Columns(Int8Activations act, int rows, Int4Weight w, int c0, int c1, float[]? bias, float[] y, bool vectors)
    {
        int o = w.Rows;
        int full = c1 == o ? c0 + (c1 - c0) / Panel * Panel : c1;   // only the last panel can be partial
        if (vectors)
        {
            int r = 0;
            for (; r + 4 <= rows; r += 4)
            {
                int c = c0;
                for (; c + 2 * Panel <= full; c += 2 * Panel)
                    Tile4x16(act, r, w, c, bias, y);
                for (; c < full; c += Panel)
                    for (int rr = r; rr < r + 4; rr++)
                        Tile1xN(act, rr, w, c, 1, bias, y);
            }
            for (; r < rows; r++)
            {
                int c = c0;
                for (; c + 4 * Panel <= full; c += 4 * Panel)
                    Tile1xN(act, r, w, c, 4, bias, y);
                for (; c < full; c += Panel)
                    Tile1xN(act, r, w, c, 1, bias, y);
            }
        }
        else
        {
            full = c0;
        }
        for (int c = full; c < c1; c++)
            for (int r = 0; r < rows; r++)
                y[r * o + c] = Element(act, r, w, c) + (bias?[c] ?? 0f);
    }

    /// <summary>One element in the kernels' order: exact int32 group sums, then one FMA per group.</summary>
    internal static float Element(Int8Activations act, int r, Int4Weight w, int c)
    {
        int groups = w.Groups;
        float acc = 0f;
        for (int g = 0; g < groups; g++)
        {
            int sum = 0;
            for (int i = 0; i < Group; i++)
                sum += (act.Quants[r * act.RowBytes + g * Group + i] - 128) * w.Quant(c, g * Group + i);
            acc = MathF.FusedMultiplyAdd(sum, w.Scale(c, g), acc);
        }
        return act.Scales[r] * acc;
    }

    /// <summary>Eight fp16 scales widened to fp32, sign kept (Q4_0 scales may be negative): magnitude shifted into
    /// place and rebiased by 2^112 (exact for normals, subnormals and zero), then the sign OR-ed back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scales(ref ushort at)
    {
        var h = Vector128.LoadUnsafe(ref at);
        var words = Vector256.Create(Vector128.WidenLower(h), Vector128.WidenUpper(h));
        var magnitude = ((words & Vector256.Create(0x7FFFu)) << 13).AsSingle() * Vector256.Create(MathF.ScaleB(1f, 112));
        return (magnitude.AsUInt32() | ((words & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>Stores scale · acc (+ bias[c ..]) at y[at], unchecked: a range check after the group loop is a call,
    /// and any call there makes the JIT keep the accumulators in memory across the loop (vector registers are all
    /// caller-saved on x64 Unix). <see cref="RunQuantized"/> checks the extents once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector256<float> acc, float scale, Int4Weight w, float[] y, int at, float[]? bias, int c)
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

    /// <summary>A group's lane sums as int32 (already, with AVX-VNNI; else the int16 halves added by vpmaddwd by ones),
    /// minus 8 · Σ x_q: Σ x_q · q, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GroupSum(Vector256<int> acc, Vector256<int> eightSum) =>
        Vector256.ConvertToSingle((AvxVnni.IsSupported ? acc : Avx2.MultiplyAddAdjacent(acc.AsInt16(), Vector256.Create((short)1))) - eightSum);

    /// <summary>One row against <paramref name="panels"/> (1 or 4) consecutive panels.</summary>
    private static void Tile1xN(Int8Activations act, int r, Int4Weight w, int c, int panels, float[]? bias, float[] y)
    {
        int groups = w.Groups;
        ref sbyte xr = ref MemoryMarshal.GetArrayDataReference(act.Signed);
        ref byte wr = ref MemoryMarshal.GetArrayDataReference(w.Nibbles);
        ref ushort sr = ref MemoryMarshal.GetArrayDataReference(w.Scales);
        ref int gs = ref MemoryMarshal.GetArrayDataReference(act.GroupSums);
        nuint panelBytes = (nuint)groups * Int4Weight.GroupBytes;
        nuint p0 = (nuint)(c / Panel) * panelBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel);
        nuint xo = (nuint)(r * act.RowBytes);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            nuint wo = p0 + (nuint)g * Int4Weight.GroupBytes;
            nuint xg = xo + (nuint)(g * Group);
            for (int t = 0; t < Group / 8; t++)
            {
                var xl = Quad(ref xr, xg + (nuint)(t * 8));
                var xh = Quad(ref xr, xg + (nuint)(t * 8 + 4));
                nuint at = wo + (nuint)(t * 32);
                var b0 = Vector256.LoadUnsafe(ref wr, at);
                i0 = Dot(Dot(i0, Low(b0), xl), High(b0), xh);
                if (panels == 4)
                {
                    var b1 = Vector256.LoadUnsafe(ref wr, at + panelBytes);
                    var b2 = Vector256.LoadUnsafe(ref wr, at + 2 * panelBytes);
                    var b3 = Vector256.LoadUnsafe(ref wr, at + 3 * panelBytes);
                    i1 = Dot(Dot(i1, Low(b1), xl), High(b1), xh);
                    i2 = Dot(Dot(i2, Low(b2), xl), High(b2), xh);
                    i3 = Dot(Dot(i3, Low(b3), xl), High(b3), xh);
                }
            }
            var e = Vector256.Create(Unsafe.Add(ref gs, r * groups + g));
            nuint sg = s0 + (nuint)(g * Panel);
            f0 = Vector256.FusedMultiplyAdd(GroupSum(i0, e), Scales(ref Unsafe.Add(ref sr, sg)), f0);
            if (panels == 4)
            {
                nuint ps = (nuint)(groups * Panel);
                f1 = Vector256.FusedMultiplyAdd(GroupSum(i1, e), Scales(ref Unsafe.Add(ref sr, sg + ps)), f1);
                f2 = Vector256.FusedMultiplyAdd(GroupSum(i2, e), Scales(ref Unsafe.Add(ref sr, sg + 2 * ps)), f2);
                f3 = Vector256.FusedMultiplyAdd(GroupSum(i3, e), Scales(ref Unsafe.Add(ref sr, sg + 3 * ps)), f3);
            }
        }
        float s = RowScale(act, r);
        int y0 = r * w.Rows + c;
        Put(f0, s, w, y, y0, bias, c);
        if (panels == 4)
        {
            Put(f1, s, w, y, y0 + 8, bias, c + 8);
            Put(f2, s, w, y, y0 + 16, bias, c + 16);
            Put(f3, s, w, y, y0 + 24, bias, c + 24);
        }
    }

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
        nuint rb = (nuint)act.RowBytes, x0 = (nuint)r * rb;
        Vector256<float> f00 = default, f01 = default, f10 = default, f11 = default, f20 = default, f21 = default, f30 = default, f31 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> i00 = default, i01 = default, i10 = default, i11 = default, i20 = default, i21 = default, i30 = default, i31 = default;
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
            var e0 = Vector256.Create(Unsafe.Add(ref gs, r * groups + g));
            var e1 = Vector256.Create(Unsafe.Add(ref gs, (r + 1) * groups + g));
            var e2 = Vector256.Create(Unsafe.Add(ref gs, (r + 2) * groups + g));
            var e3 = Vector256.Create(Unsafe.Add(ref gs, (r + 3) * groups + g));
            f00 = Vector256.FusedMultiplyAdd(GroupSum(i00, e0), d0, f00); f01 = Vector256.FusedMultiplyAdd(GroupSum(i01, e0), d1, f01);
            f10 = Vector256.FusedMultiplyAdd(GroupSum(i10, e1), d0, f10); f11 = Vector256.FusedMultiplyAdd(GroupSum(i11, e1), d1, f11);
            f20 = Vector256.FusedMultiplyAdd(GroupSum(i20, e2), d0, f20); f21 = Vector256.FusedMultiplyAdd(GroupSum(i21, e2), d1, f21);
            f30 = Vector256.FusedMultiplyAdd(GroupSum(i30, e3), d0, f30); f31 = Vector256.FusedMultiplyAdd(GroupSum(i31, e3), d1, f31);
        }
        int o = w.Rows, y0 = r * o + c;
        Put(f00, RowScale(act, r), w, y, y0, bias, c); Put(f01, RowScale(act, r), w, y, y0 + 8, bias, c + 8); y0 += o;
        Put(f10, RowScale(act, r + 1), w, y, y0, bias, c); Put(f11, RowScale(act, r + 1), w, y, y0 + 8, bias, c + 8); y0 += o;
        Put(f20, RowScale(act, r + 2), w, y, y0, bias, c); Put(f21, RowScale(act, r + 2), w, y, y0 + 8, bias, c + 8); y0 += o;
        Put(f30, RowScale(act, r + 3), w, y, y0, bias, c); Put(f31, RowScale(act, r + 3), w, y, y0 + 8, bias, c + 8);
    }

    private readonly record struct Job(Int8Activations Act, int Rows, Int4Weight W, int PerChunk, float[]? Bias, float[] Y, bool Vectors);
}
