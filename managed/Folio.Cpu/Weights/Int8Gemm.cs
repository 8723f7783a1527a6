using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// y[r, o] = Σ_g (d[o, g] · s[r, g]) · Σ_{i in g} x_q[r, i] · q[o, i] (+ bias[o]) over an <see cref="Int8Weight"/> and
/// the input quantized per group of 32 (<see cref="Int8Activations.QuantizePerGroup"/>: x_q in [-127, 127], stored
/// + 128, one fp32 scale s[r, g] per group, the weight's grouping: an outlier costs only its group's precision, as
/// in llama.cpp's q8_0 × q8_0). The byte products run on
/// vpmaddubsw (AVX2, unsigned × signed pairs summed to int16) with llama.cpp's sign trick: |x_q| times q with
/// x_q's sign moved onto it (vpsignb), so a pair sum is at most 2 · 127² < 2^15 and nothing saturates; vpmaddwd by
/// ones widens to int32. The group sums are exact (|Σ| ≤ 32 · 127² < 2^24): each is converted to fp32 and folded in
/// with one FMA per group in group order, by the product d · s rounded to fp32 (one multiply per group), so an element's value does not depend on which tile, thread or batch computed it, and
/// the portable path (scalar, same order) gives the same bits. Where the CPU has AVX-VNNI (.NET 10's AvxVnni, the
/// 256-bit VEX form: Intel since Alder Lake / Sapphire Rapids; .NET 10 has no AVX-512 VNNI class) vpdpbusd does the
/// products and the sum to int32 in one instruction, the same exact sums.
/// Tiles: 8 rows × 16 columns (and a strip's last 4–7 rows) as emitted AVX-512 VNNI code where the CPU has it
/// (<see cref="Int8EmittedTile"/>), else on AVX-512 without AVX-VNNI the weights' nibbles (Int8Gemm.Tiles512.cs), 4 rows × 16
/// columns (batches), and for a batch's last one to three rows 3 × 8, 2 × 8 and 1 × 8 (decode: one panel at a time,
/// one prefetched sequential stream, Int8Gemm.Decode.cs), over blocks of 256 columns; columns of a partial last panel
/// go scalar.
/// </summary>
internal static partial class Int8Gemm
{
    private const int Panel = Int8Weight.PanelCols;
    private const int Group = Int8Weight.GroupSize;

    public static bool UsesVectors => Avx2.IsSupported;

    /// <summary>Whether batches of 8 rows or more run the emitted AVX-512 VNNI tile (<see cref="Int8EmittedTile"/>).</summary>
    public static bool UsesEmitted => Int8EmittedTile.Available;

    public static string KernelName => UsesVectors
        ? UsesEmitted
            ? "int8 weights (group 32, fp16 scales) x int8 activations per group of 32, AVX-512 VNNI vpdpbusd (emitted 8 x 16 tiles), "
              + (AvxVnni.IsSupported ? "AVX-VNNI vpdpbusd" : "AVX2 vpmaddubsw (sign trick)") + " for 1-3 rows"
            : AvxVnni.IsSupported
            ? "int8 weights (group 32, fp16 scales) x int8 activations per group of 32, AVX-VNNI vpdpbusd (x_q + 128 less 128·Σq from 4 rows, sign trick for one)"
            : UsesWide
                ? "int8 weights (group 32, fp16 scales) x int8 activations per group of 32, AVX-512 BW vpmaddubsw over the weights' nibbles (8 x 16 tiles), AVX2 vpmaddubsw (sign trick) for 1-7 rows"
                : "int8 weights (group 32, fp16 scales) x int8 activations per group of 32, AVX2 vpmaddubsw (sign trick)"
        : "int8 weights (group 32, fp16 scales) x int8 activations per group of 32, portable scalar";

    public static void Run(float[] x, int rows, Int8Weight w, float[]? bias, float[] y, ParallelRunner runner, Int8Activations act)
    {
        act.QuantizePerGroup(x, rows, w.Cols, runner);
        RunQuantized(act, rows, w, bias, y, runner, UsesVectors, UsesWide || UsesEmitted, UsesEmitted);
    }

    /// <summary>The GEMM on activations already quantized per group; <paramref name="vectors"/> false forces the
    /// portable path (the tests compare the two), <paramref name="wide"/> picks the 512-bit 8 × 16 tile for strips of 8
    /// rows (needs AVX-512 BW), <paramref name="emitted"/> the emitted AVX-512 VNNI code for it (<see cref="Int8EmittedTile"/>)
    /// instead of the managed nibble tile.</summary>
    internal static void RunQuantized(Int8Activations act, int rows, Int8Weight w, float[]? bias, float[] y, ParallelRunner runner, bool vectors, bool wide,
        bool emitted = false)
    {
        if (wide && !emitted && !Avx512BW.IsSupported)
            throw new PlatformNotSupportedException("the 8 x 16 int8 tile needs AVX-512 BW");
        if (emitted && !Int8EmittedTile.Available)
            throw new PlatformNotSupportedException("the emitted 8 x 16 int8 tile needs AVX-512 VNNI on Linux x64");
        int outCols = w.Rows;
        if (!act.PerGroup || act.RowBytes != w.Groups * Group)
            throw new ArgumentException($"the int8 GEMM takes activations quantized per group of {Group} over k = {w.Cols}");
        if (act.GroupScales.Length < (long)rows * w.Groups || act.GroupSums.Length < (long)rows * w.Groups || act.GroupOffsets.Length < (long)rows * w.Groups || act.Quants.Length < (long)rows * act.RowBytes || y.Length < (long)rows * outCols || (bias is not null && bias.Length < outCols))
            throw new ArgumentException($"GEMM operands too short for {rows} rows x [{outCols}, {w.Cols}]");
        // Chunks of whole 32-column blocks, several per thread so that uneven chunks even out.
        int blocks = (outCols + 31) / 32;
        int chunks = Math.Max(1, Math.Min(runner.Threads * 4, blocks));
        int perChunk = (blocks + chunks - 1) / chunks * 32;
        chunks = (outCols + perChunk - 1) / perChunk;
        long work = (long)rows * w.Cols * outCols / 4;   // int8 dot products run ~4x the fp32 rate
        runner.For(chunks, work, new Job(act, rows, w, perChunk, bias, y, vectors, wide, emitted), static (j, chunk) =>
        {
            int c0 = chunk * j.PerChunk;
            Columns(j.Act, j.Rows, j.W, c0, Math.Min(j.W.Rows, c0 + j.PerChunk), j.Bias, j.Y, j.Vectors, j.Wide, j.Emitted);
        });
    }

    private static void Columns(Int8Activations act, int rows, Int8Weight w, int c0, int c1, float[]? bias, float[] y, bool vectors, bool wide, bool emitted)
    {
        if (emitted && wide)
        {
            if (w.SingleScales is null)
                ColumnBlockWalk.Columns<Int8Weight, VnniTiles<HalfScales>>(act, rows, w, w.Rows, c0, c1, bias, y, vectors, eightRows: true);
            else
                ColumnBlockWalk.Columns<Int8Weight, VnniTiles<SingleScales>>(act, rows, w, w.Rows, c0, c1, bias, y, vectors, eightRows: true);
        }
        else if (w.SingleScales is null)
            ColumnBlockWalk.Columns<Int8Weight, Tiles<HalfScales>>(act, rows, w, w.Rows, c0, c1, bias, y, vectors, eightRows: wide);
        else
            ColumnBlockWalk.Columns<Int8Weight, Tiles<SingleScales>>(act, rows, w, w.Rows, c0, c1, bias, y, vectors, eightRows: wide);
    }

    /// <summary><see cref="Tiles{TScales}"/> with the emitted AVX-512 VNNI code as the 8 × 16 tile and for a strip's last
    /// 4–7 rows.</summary>
    private readonly struct VnniTiles<TScales> : IPanelTiles<Int8Weight> where TScales : struct, IInt8Scales
    {
        public static int Panel => Int8Weight.PanelCols;

        public static void Tile8x16(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y) =>
            Int8EmittedTile.Run<TScales>(act, r, 8, w, c, bias, y);

        public static bool HasShortStripTile => true;

        public static void TileNx16(Int8Activations act, int r, int n, Int8Weight w, int c, float[]? bias, float[] y) =>
            Int8EmittedTile.Run<TScales>(act, r, n, w, c, bias, y);

        public static void Tile4x16(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y) =>
            Tiles<TScales>.Tile4x16(act, r, w, c, bias, y);

        public static void Tile2x4Panels(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y) =>
            Tiles<TScales>.Tile2x4Panels(act, r, w, c, bias, y);

        public static bool HasThreeRowTile => true;

        public static void Tile3x1Panel(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y) =>
            Tiles<TScales>.Tile3x1Panel(act, r, w, c, bias, y);

        public static void Tile1xN(Int8Activations act, int r, Int8Weight w, int c, int panels, float[]? bias, float[] y) =>
            Tiles<TScales>.Tile1xN(act, r, w, c, panels, bias, y);

        public static float Element(Int8Activations act, int r, Int8Weight w, int c) => Int8Gemm.Element(act, r, w, c);
    }

    /// <summary>This kernel's tiles for <see cref="ColumnBlockWalk"/> (a struct: the walk is compiled for it, calls
    /// direct), for the weight's kind of scales.</summary>
    private readonly struct Tiles<TScales> : IPanelTiles<Int8Weight> where TScales : struct, IInt8Scales
    {
        public static int Panel => Int8Weight.PanelCols;

        public static void Tile8x16(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y) =>
            Int8Gemm.Tile8x16<TScales>(act, r, w, c, bias, y);

        public static void Tile4x16(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y)
        {
            if (AvxVnni.IsSupported)
                Tile4x16Vnni<TScales>(act, r, w, c, bias, y);
            else
                Int8Gemm.Tile4x16<TScales>(act, r, w, c, bias, y);
        }

        // The decode tiles take one panel at a time (Int8Gemm.Decode.cs: one sequential stream).
        public static void Tile2x4Panels(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y)
        {
            for (int p = 0; p < 4; p++)
                Tile2x8<TScales>(act, r, w, c + p * Panel, bias, y);
        }

        public static bool HasThreeRowTile => true;

        public static void Tile3x1Panel(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y) =>
            Tile3x8<TScales>(act, r, w, c, bias, y);

        public static void Tile1xN(Int8Activations act, int r, Int8Weight w, int c, int panels, float[]? bias, float[] y)
        {
            for (int p = 0; p < panels; p++)
                Tile1x8<TScales>(act, r, w, c + p * Panel, bias, y);
        }

        public static float Element(Int8Activations act, int r, Int8Weight w, int c) => Int8Gemm.Element(act, r, w, c);
    }

    /// <summary>One element in the kernels' order: exact int32 group sums, then one FMA per group by d · s.</summary>
    internal static float Element(Int8Activations act, int r, Int8Weight w, int c)
    {
        int groups = w.Groups;
        float acc = 0f;
        for (int g = 0; g < groups; g++)
        {
            int sum = 0;
            for (int i = 0; i < Group; i++)
                sum += (act.Quants[r * act.RowBytes + g * Group + i] - 128) * w.Quants[Int8Weight.Index(c / Panel, groups, g, i, c % Panel)];
            acc = MathF.FusedMultiplyAdd(sum, w.Scale(c, g) * act.GroupScales[r * groups + g], acc);
        }
        return acc;
    }

    /// <summary>Eight fp16 scales widened to fp32 (positive normals or zero: shift into place, rebias by 2^112).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Scales(ref ushort at)
    {
        var h = Vector128.LoadUnsafe(ref at);
        var words = Vector256.Create(Vector128.WidenLower(h), Vector128.WidenUpper(h));
        return (words << 13).AsSingle() * Vector256.Create(MathF.ScaleB(1f, 112));
    }

    /// <summary>Stores acc (+ bias[c ..]) at y[at], unchecked: a range check after the group loop is a call,
    /// and any call there makes the JIT keep the accumulators in memory across the loop (vector registers are all
    /// caller-saved on x64 Unix). <see cref="RunQuantized"/> checks the extents once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(Vector256<float> v, float[] y, int at, float[]? bias, int c)
    {
        if (bias is not null)
            v += Vector256.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(bias), (nuint)c);
        v.StoreUnsafe(ref MemoryMarshal.GetArrayDataReference(y), (nuint)at);
    }

    /// <summary>Activation scale s[r, g] in every lane, unchecked (see <see cref="Put"/>): <paramref name="at"/> = r · groups + g.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GroupScale(ref float scales, nuint at) => Vector256.Create(Unsafe.Add(ref scales, at));

    /// <summary>acc + per lane Σ of 4 products x_q · q: |x_q| × (q with x_q's sign), summed to int32 by vpdpbusd where
    /// the CPU has AVX-VNNI, else pairs to int16 (vpmaddubsw) and then to int32 (vpmaddwd by ones). Both exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> absX, Vector256<sbyte> x, Vector256<sbyte> w) =>
        AvxVnni.IsSupported
            ? AvxVnni.MultiplyWideningAndAdd(acc, absX, Avx2.Sign(w, x))
            : acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(absX, Avx2.Sign(w, x)), Vector256.Create((short)1));

    /// <summary>Four rows against two panels: each weight load serves four rows.</summary>
    private static void Tile4x16<TScales>(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y)
        where TScales : struct, IInt8Scales
    {
        int groups = w.Groups;
        ref sbyte xr = ref MemoryMarshal.GetArrayDataReference(act.Signed);
        ref sbyte wr = ref MemoryMarshal.GetArrayDataReference(w.Quants);
        ref byte sr = ref TScales.Base(w);
        nuint panelBytes = (nuint)groups * Int8Weight.GroupBytes;
        nuint p0 = (nuint)(c / Panel) * panelBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel), ps = (nuint)(groups * Panel);
        nuint rb = (nuint)act.RowBytes, x0 = (nuint)r * rb;
        ref float xs = ref MemoryMarshal.GetArrayDataReference(act.GroupScales);
        nuint gs = (nuint)groups, xs0 = (nuint)r * gs;
        Vector256<float> f00 = default, f01 = default, f10 = default, f11 = default, f20 = default, f21 = default, f30 = default, f31 = default;
        for (int g = 0; g < groups; g++)
        {
            Vector256<int> i00 = default, i01 = default, i10 = default, i11 = default, i20 = default, i21 = default, i30 = default, i31 = default;
            nuint wo = p0 + (nuint)g * Int8Weight.GroupBytes;
            nuint xg = x0 + (nuint)(g * Group);
            for (int q = 0; q < Group / 4; q++)
            {
                nuint at = wo + (nuint)(q * 32);
                var w0 = Vector256.LoadUnsafe(ref wr, at);
                var w1 = Vector256.LoadUnsafe(ref wr, at + panelBytes);
                nuint xq = xg + (nuint)(q * 4);
                var b = SignedQuad(ref xr, xq); var a = Avx2.Abs(b);
                i00 = Dot(i00, a, b, w0); i01 = Dot(i01, a, b, w1);
                b = SignedQuad(ref xr, xq + rb); a = Avx2.Abs(b);
                i10 = Dot(i10, a, b, w0); i11 = Dot(i11, a, b, w1);
                b = SignedQuad(ref xr, xq + 2 * rb); a = Avx2.Abs(b);
                i20 = Dot(i20, a, b, w0); i21 = Dot(i21, a, b, w1);
                b = SignedQuad(ref xr, xq + 3 * rb); a = Avx2.Abs(b);
                i30 = Dot(i30, a, b, w0); i31 = Dot(i31, a, b, w1);
            }
            nuint sg = s0 + (nuint)(g * Panel);
            var d0 = TScales.Load8(ref sr, sg);
            var d1 = TScales.Load8(ref sr, sg + ps);
            nuint xg0 = xs0 + (nuint)g;
            var s = GroupScale(ref xs, xg0);
            f00 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i00), d0 * s, f00); f01 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i01), d1 * s, f01);
            s = GroupScale(ref xs, xg0 + gs);
            f10 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i10), d0 * s, f10); f11 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i11), d1 * s, f11);
            s = GroupScale(ref xs, xg0 + 2 * gs);
            f20 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i20), d0 * s, f20); f21 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i21), d1 * s, f21);
            s = GroupScale(ref xs, xg0 + 3 * gs);
            f30 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i30), d0 * s, f30); f31 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i31), d1 * s, f31);
        }
        int o = w.Rows, y0 = r * o + c;
        Put(f00, y, y0, bias, c); Put(f01, y, y0 + 8, bias, c + 8); y0 += o;
        Put(f10, y, y0, bias, c); Put(f11, y, y0 + 8, bias, c + 8); y0 += o;
        Put(f20, y, y0, bias, c); Put(f21, y, y0 + 8, bias, c + 8); y0 += o;
        Put(f30, y, y0, bias, c); Put(f31, y, y0 + 8, bias, c + 8);
    }

    /// <summary>Four rows against two panels with AVX-VNNI: vpdpbusd takes the stored unsigned x_q + 128 as they are
    /// (one broadcast load a row, no sign trick), so a group's lane sums are Σ (x_q + 128) · q, and
    /// the accumulators start at <see cref="Int8Weight.QuantOffsets"/> = −128 · Σ q: Σ x_q · q exactly, as the other tiles.</summary>
    private static void Tile4x16Vnni<TScales>(Int8Activations act, int r, Int8Weight w, int c, float[]? bias, float[] y)
        where TScales : struct, IInt8Scales
    {
        int groups = w.Groups;
        ref byte xr = ref MemoryMarshal.GetArrayDataReference(act.Quants);
        ref sbyte wr = ref MemoryMarshal.GetArrayDataReference(w.Quants);
        ref byte sr = ref TScales.Base(w);
        ref int qs = ref MemoryMarshal.GetArrayDataReference(w.QuantOffsets);
        nuint panelBytes = (nuint)groups * Int8Weight.GroupBytes;
        nuint p0 = (nuint)(c / Panel) * panelBytes;
        nuint s0 = (nuint)(c / Panel * groups * Panel), ps = (nuint)(groups * Panel);
        nuint rb = (nuint)act.RowBytes, x0 = (nuint)r * rb;
        ref float xs = ref MemoryMarshal.GetArrayDataReference(act.GroupScales);
        nuint gs = (nuint)groups, xs0 = (nuint)r * gs;
        Vector256<float> f00 = default, f01 = default, f10 = default, f11 = default, f20 = default, f21 = default, f30 = default, f31 = default;
        for (int g = 0; g < groups; g++)
        {
            nuint sg = s0 + (nuint)(g * Panel);
            var c0 = Vector256.LoadUnsafe(ref qs, sg);
            var c1 = Vector256.LoadUnsafe(ref qs, sg + ps);
            Vector256<int> i00 = c0, i01 = c1, i10 = c0, i11 = c1, i20 = c0, i21 = c1, i30 = c0, i31 = c1;
            nuint wo = p0 + (nuint)g * Int8Weight.GroupBytes;
            ref byte xg = ref Unsafe.Add(ref xr, x0 + (nuint)(g * Group));
            for (int q = 0; q < Group / 4; q++)
            {
                nuint at = wo + (nuint)(q * 32);
                var w0 = Vector256.LoadUnsafe(ref wr, at);
                var w1 = Vector256.LoadUnsafe(ref wr, at + panelBytes);
                ref byte xq = ref Unsafe.Add(ref xg, q * 4);
                var b = Vector256.Create(Unsafe.ReadUnaligned<uint>(ref xq)).AsByte();
                i00 = AvxVnni.MultiplyWideningAndAdd(i00, b, w0); i01 = AvxVnni.MultiplyWideningAndAdd(i01, b, w1);
                b = Vector256.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref xq, rb))).AsByte();
                i10 = AvxVnni.MultiplyWideningAndAdd(i10, b, w0); i11 = AvxVnni.MultiplyWideningAndAdd(i11, b, w1);
                b = Vector256.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref xq, 2 * rb))).AsByte();
                i20 = AvxVnni.MultiplyWideningAndAdd(i20, b, w0); i21 = AvxVnni.MultiplyWideningAndAdd(i21, b, w1);
                b = Vector256.Create(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref xq, 3 * rb))).AsByte();
                i30 = AvxVnni.MultiplyWideningAndAdd(i30, b, w0); i31 = AvxVnni.MultiplyWideningAndAdd(i31, b, w1);
            }
            var d0 = TScales.Load8(ref sr, sg);
            var d1 = TScales.Load8(ref sr, sg + ps);
            nuint xg0 = xs0 + (nuint)g;
            var s = GroupScale(ref xs, xg0);
            f00 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i00), d0 * s, f00); f01 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i01), d1 * s, f01);
            s = GroupScale(ref xs, xg0 + gs);
            f10 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i10), d0 * s, f10); f11 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i11), d1 * s, f11);
            s = GroupScale(ref xs, xg0 + 2 * gs);
            f20 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i20), d0 * s, f20); f21 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i21), d1 * s, f21);
            s = GroupScale(ref xs, xg0 + 3 * gs);
            f30 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i30), d0 * s, f30); f31 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(i31), d1 * s, f31);
        }
        int o = w.Rows, y0 = r * o + c;
        Put(f00, y, y0, bias, c); Put(f01, y, y0 + 8, bias, c + 8); y0 += o;
        Put(f10, y, y0, bias, c); Put(f11, y, y0 + 8, bias, c + 8); y0 += o;
        Put(f20, y, y0, bias, c); Put(f21, y, y0 + 8, bias, c + 8); y0 += o;
        Put(f30, y, y0, bias, c); Put(f31, y, y0 + 8, bias, c + 8);
    }

    private readonly record struct Job(Int8Activations Act, int Rows, Int8Weight W, int PerChunk, float[]? Bias, float[] Y, bool Vectors, bool Wide, bool Emitted);
}
