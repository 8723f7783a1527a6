using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Folio.Cpu.Weights;

/// <summary>
/// y[r, o] = Σ_k x[r, k] · w[o, k] (+ bias[o]) with w a <see cref="MappedBf16Weight"/>: the checkpoint's row-major
/// bf16 rows read in place. Each block of 64 outputs is first widened to fp32 and transposed into
/// <see cref="Gemm"/>'s packed layout (four panels of 16 columns, k-major: <see cref="Widen"/>) in a scratch the
/// size of 64 × K floats (192 KiB at K = 768: it stays in L2), and then <see cref="Gemm"/>'s own tiles run over every
/// row of x against it (8 × 32 and 4 × 32 with AVX-512, 6 × 16, 1 × 64, 1 × 16). So each weight is converted once per
/// MatMul whatever the batch, the tiles reuse it across all rows, and every element is the fp32 path's one fused
/// multiply-add chain over k = 0, 1, … from zero, then + bias: widening is exact, so a bf16 folder used in place
/// gives the same bits as its values in fp32 (and as the packed copy, <see cref="HalfGemm{TPanel}"/>), and a row's
/// result does not depend on the batch.
/// The transpose: per 16 outputs and 32 k, sixteen 512-bit loads (one per weight row; dword j = the pair k = 2j,
/// 2j + 1) and a 16 × 16 dword transpose (64 shuffles), then a 16-bit shift (even k) or a mask (odd k) gives the
/// fp32 vector of 16 outputs at one k. With AVX2 only (the NativeAOT builds), two 8 × 8 transposes per 16 k; without
/// either, element by element: the same values.
/// One row (decode) skips the scratch: each transposed piece feeds two panels' FMA chains at once
/// (<see cref="Row1x32"/>), which is the 1 × 64 tile's arithmetic lane for lane.
/// </summary>
internal static class Bf16RowGemm
{
    public const string KernelName = "bf16 weights mapped in place, widened and transposed per 64-output block into fp32 panels, then the fp32 tiles (fp32 FMA)";
    /// <summary>Outputs widened at a time: four 16-column panels, so that one row runs the 1 × 64 tile (eight independent
    /// FMA chains; the 1 × 16 tile's two wait on the FMA latency) and several rows two 8 × 32 tiles per block.</summary>
    internal const int BlockOuts = 64;
    private const int PanelCols = 16;

    /// <summary>Floats of one chunk's scratch for <paramref name="k"/> inputs.</summary>
    public static int ScratchFloats(int k) => BlockOuts * k;

    /// <summary>The work split: chunks of whole 64-output blocks (at most 4 per thread).</summary>
    public static (int Chunks, int PerChunk) Split(int outCols, int threads)
    {
        int chunks = Math.Max(1, Math.Min(threads * 4, outCols / 64));
        int perChunk = (outCols + chunks - 1) / chunks;
        perChunk = (perChunk + BlockOuts - 1) / BlockOuts * BlockOuts;
        return ((outCols + perChunk - 1) / perChunk, perChunk);
    }

    /// <param name="scratch">At least <see cref="Split"/>'s chunk count of arrays, each of <see cref="ScratchFloats"/>
    /// floats (the caller's, reused: chunk i widens into scratch[i]).</param>
    public static void Run(float[] x, int rows, MappedBf16Weight w, float[]? bias, float[] y, ParallelRunner runner, float[][] scratch)
    {
        w.RequireLive();
        int k = w.Cols, outCols = w.Rows;
        // Gemm's tiles read and write unchecked: every extent is checked once here.
        if (x.Length < (long)rows * k || y.Length < (long)rows * outCols || (bias is not null && bias.Length < outCols))
            throw new ArgumentException($"GEMM operands too short for [{rows}, {k}] x [{outCols}, {k}]");
        var (chunks, perChunk) = Split(outCols, runner.Threads);
        for (int i = 0; i < chunks; i++)   // a loop, not LINQ: a steady step allocates nothing
            if (i >= scratch.Length || scratch[i].Length < ScratchFloats(k))
                throw new ArgumentException($"the panel scratch needs {chunks} arrays of {ScratchFloats(k)} floats");
        long work = (long)(rows + 4) * k * outCols;   // the widening costs about four rows' multiply-adds
        runner.For(chunks, work, new Job(x, rows, w, perChunk, bias, y, scratch), static (j, chunk) =>
        {
            int k = j.W.Cols, o = j.W.Rows;
            var panels = j.Scratch[chunk];
            int c1 = Math.Min(o, (chunk + 1) * j.PerChunk);
            for (int cb = chunk * j.PerChunk; cb < c1; cb += BlockOuts)
            {
                int cEnd = Math.Min(c1, cb + BlockOuts);
                if (j.Rows == 1 && cEnd - cb == BlockOuts && k % (2 * PanelCols) == 0 && Avx512F.IsSupported)
                {
                    // One row: each piece of the weight is transposed in registers and used at once, two panels side by side.
                    Row1x32(j.X, k, j.W, cb, j.Bias, j.Y);
                    Row1x32(j.X, k, j.W, cb + 2 * PanelCols, j.Bias, j.Y);
                    continue;
                }
                Widen(j.W, cb, cEnd, panels);
                Gemm.Columns(j.X, j.Rows, k, panels, cb, o, cb, cEnd, j.Bias, j.Y);
            }
        });
    }

    /// <summary>Weight rows [c0, c1) (at most 64) as fp32 in Gemm's packed layout: panels[p·K·16 + i·16 + l] =
    /// w[c0 + 16p + l, i]; the lanes of a last partial panel repeat its last row (never stored by the tiles).</summary>
    /// <param name="useAvx512">False takes the AVX2 path where AVX-512 runs too (for tests: the NativeAOT builds
    /// target AVX2).</param>
    internal static unsafe void Widen(MappedBf16Weight w, int c0, int c1, float[] panels, bool useAvx512 = true)
    {
        int k = w.Cols;
        var rows = stackalloc ushort*[PanelCols];
        for (int p = 0; c0 + p * PanelCols < c1; p++)
        {
            for (int l = 0; l < PanelCols; l++)
                rows[l] = (ushort*)Unsafe.AsPointer(ref w.Row(Math.Min(c0 + p * PanelCols + l, c1 - 1)));
            fixed (float* panel = &panels[p * k * PanelCols])
            {
                int i = 0;
                if (Avx512F.IsSupported && useAvx512)
                    for (; i + 2 * PanelCols <= k; i += 2 * PanelCols)
                        Transpose(rows, i, panel + i * PanelCols);
                else if (Avx2.IsSupported)
                    for (; i + PanelCols <= k; i += PanelCols)
                    {
                        Transpose8(rows, i, panel + i * PanelCols);
                        Transpose8(rows + 8, i, panel + i * PanelCols + 8);
                    }
                for (; i < k; i++)
                    for (int l = 0; l < PanelCols; l++)
                        panel[i * PanelCols + l] = BitConverter.Int32BitsToSingle(rows[l][i] << 16);
            }
        }
    }

    /// <summary>y[0, c0 .. c0 + 31] for one row of x (K a multiple of 32): each 16 × 32 piece of the weight is transposed
    /// in registers as <see cref="Transpose"/> does and used at once; the two panels' chains (what Gemm's 1 × 64 tile
    /// computes lane for lane: the same bits) run side by side.</summary>
    private static unsafe void Row1x32(float[] x, int k, MappedBf16Weight w, int c0, float[]? bias, float[] y)
    {
        var rows = stackalloc ushort*[2 * PanelCols];
        for (int l = 0; l < 2 * PanelCols; l++)
            rows[l] = (ushort*)Unsafe.AsPointer(ref w.Row(c0 + l));
        Vector512<float> a0 = default, a1 = default;
        fixed (float* xr = x)
            for (int i = 0; i < k; i += 2 * PanelCols)
            {
                a0 = Chain(rows, i, xr + i, a0);
                a1 = Chain(rows + PanelCols, i, xr + i, a1);
            }
        // Unchecked (Run checked the extents): a range check's call after the loop would keep the chains in memory.
        if (bias is not null)
        {
            ref float b = ref MemoryMarshal.GetArrayDataReference(bias);
            a0 += Vector512.LoadUnsafe(ref b, (nuint)c0);
            a1 += Vector512.LoadUnsafe(ref b, (nuint)c0 + PanelCols);
        }
        ref float yr = ref MemoryMarshal.GetArrayDataReference(y);
        a0.StoreUnsafe(ref yr, (nuint)c0);
        a1.StoreUnsafe(ref yr, (nuint)c0 + PanelCols);
    }

    /// <summary>acc (16 outputs' chains) continued over k = i .. i + 31 of the 16 rows, in k order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Chain(ushort** rows, int i, float* x, Vector512<float> acc)
    {
        var r0 = Avx512F.LoadVector512((uint*)(rows[0] + i)); var r1 = Avx512F.LoadVector512((uint*)(rows[1] + i));
        var r2 = Avx512F.LoadVector512((uint*)(rows[2] + i)); var r3 = Avx512F.LoadVector512((uint*)(rows[3] + i));
        var r4 = Avx512F.LoadVector512((uint*)(rows[4] + i)); var r5 = Avx512F.LoadVector512((uint*)(rows[5] + i));
        var r6 = Avx512F.LoadVector512((uint*)(rows[6] + i)); var r7 = Avx512F.LoadVector512((uint*)(rows[7] + i));
        var r8 = Avx512F.LoadVector512((uint*)(rows[8] + i)); var r9 = Avx512F.LoadVector512((uint*)(rows[9] + i));
        var r10 = Avx512F.LoadVector512((uint*)(rows[10] + i)); var r11 = Avx512F.LoadVector512((uint*)(rows[11] + i));
        var r12 = Avx512F.LoadVector512((uint*)(rows[12] + i)); var r13 = Avx512F.LoadVector512((uint*)(rows[13] + i));
        var r14 = Avx512F.LoadVector512((uint*)(rows[14] + i)); var r15 = Avx512F.LoadVector512((uint*)(rows[15] + i));
        Quad(r0, r1, r2, r3, out var u0, out var u1, out var u2, out var u3);
        Quad(r4, r5, r6, r7, out var u4, out var u5, out var u6, out var u7);
        Quad(r8, r9, r10, r11, out var u8, out var u9, out var u10, out var u11);
        Quad(r12, r13, r14, r15, out var u12, out var u13, out var u14, out var u15);
        Pairs(u0, u4, u8, u12, out var d0, out var d8, out var d4, out var d12);
        Pairs(u1, u5, u9, u13, out var d1, out var d9, out var d5, out var d13);
        Pairs(u2, u6, u10, u14, out var d2, out var d10, out var d6, out var d14);
        Pairs(u3, u7, u11, u15, out var d3, out var d11, out var d7, out var d15);
        acc = Step(d0, x, acc); acc = Step(d1, x + 2, acc); acc = Step(d2, x + 4, acc); acc = Step(d3, x + 6, acc);
        acc = Step(d4, x + 8, acc); acc = Step(d5, x + 10, acc); acc = Step(d6, x + 12, acc); acc = Step(d7, x + 14, acc);
        acc = Step(d8, x + 16, acc); acc = Step(d9, x + 18, acc); acc = Step(d10, x + 20, acc); acc = Step(d11, x + 22, acc);
        acc = Step(d12, x + 24, acc); acc = Step(d13, x + 26, acc); acc = Step(d14, x + 28, acc); return Step(d15, x + 30, acc);
    }

    /// <summary>The chains over the pair of k in <paramref name="pairs"/> (lane l: row l's weights at x[0], x[1]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<float> Step(Vector512<uint> pairs, float* x, Vector512<float> acc)
    {
        acc = Vector512.FusedMultiplyAdd(Vector512.Create(x[0]), (pairs << 16).AsSingle(), acc);
        return Vector512.FusedMultiplyAdd(Vector512.Create(x[1]), (pairs & Vector512.Create(0xFFFF0000u)).AsSingle(), acc);
    }

    /// <summary>k = i .. i + 31 of the 16 rows: dst[(i' − i)·16 + l] = w[row l, i'].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose(ushort** rows, int i, float* dst)
    {
        // Row l's 32 weights as 16 dwords: dword j = (k = i + 2j) | (k = i + 2j + 1) << 16.
        var r0 = Avx512F.LoadVector512((uint*)(rows[0] + i)); var r1 = Avx512F.LoadVector512((uint*)(rows[1] + i));
        var r2 = Avx512F.LoadVector512((uint*)(rows[2] + i)); var r3 = Avx512F.LoadVector512((uint*)(rows[3] + i));
        var r4 = Avx512F.LoadVector512((uint*)(rows[4] + i)); var r5 = Avx512F.LoadVector512((uint*)(rows[5] + i));
        var r6 = Avx512F.LoadVector512((uint*)(rows[6] + i)); var r7 = Avx512F.LoadVector512((uint*)(rows[7] + i));
        var r8 = Avx512F.LoadVector512((uint*)(rows[8] + i)); var r9 = Avx512F.LoadVector512((uint*)(rows[9] + i));
        var r10 = Avx512F.LoadVector512((uint*)(rows[10] + i)); var r11 = Avx512F.LoadVector512((uint*)(rows[11] + i));
        var r12 = Avx512F.LoadVector512((uint*)(rows[12] + i)); var r13 = Avx512F.LoadVector512((uint*)(rows[13] + i));
        var r14 = Avx512F.LoadVector512((uint*)(rows[14] + i)); var r15 = Avx512F.LoadVector512((uint*)(rows[15] + i));
        // Within each 128-bit lane q, four rows' dwords 4q .. 4q + 3: u(4g + c) holds dword 4q + c of rows 4g .. 4g + 3.
        Quad(r0, r1, r2, r3, out var u0, out var u1, out var u2, out var u3);
        Quad(r4, r5, r6, r7, out var u4, out var u5, out var u6, out var u7);
        Quad(r8, r9, r10, r11, out var u8, out var u9, out var u10, out var u11);
        Quad(r12, r13, r14, r15, out var u12, out var u13, out var u14, out var u15);
        Columns(u0, u4, u8, u12, 0, dst);
        Columns(u1, u5, u9, u13, 1, dst);
        Columns(u2, u6, u10, u14, 2, dst);
        Columns(u3, u7, u11, u15, 3, dst);
    }

    /// <summary>The first two transpose stages for rows a, b, c, d: in each 128-bit lane q, cN = [a, b, c, d][4q + N].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad(Vector512<uint> a, Vector512<uint> b, Vector512<uint> c, Vector512<uint> d,
        out Vector512<uint> c0, out Vector512<uint> c1, out Vector512<uint> c2, out Vector512<uint> c3)
    {
        var ab0 = Avx512F.UnpackLow(a, b).AsUInt64(); var ab1 = Avx512F.UnpackHigh(a, b).AsUInt64();
        var cd0 = Avx512F.UnpackLow(c, d).AsUInt64(); var cd1 = Avx512F.UnpackHigh(c, d).AsUInt64();
        c0 = Avx512F.UnpackLow(ab0, cd0).AsUInt32(); c1 = Avx512F.UnpackHigh(ab0, cd0).AsUInt32();
        c2 = Avx512F.UnpackLow(ab1, cd1).AsUInt32(); c3 = Avx512F.UnpackHigh(ab1, cd1).AsUInt32();
    }

    /// <summary>The last two stages for dwords j = c, c + 4, c + 8, c + 12 (rows 0-3, 4-7, 8-11, 12-15 in g0 .. g3), each
    /// stored widened: k = 2j at dst[2j·16], k = 2j + 1 at dst[(2j + 1)·16].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Columns(Vector512<uint> g0, Vector512<uint> g1, Vector512<uint> g2, Vector512<uint> g3, int c, float* dst)
    {
        Pairs(g0, g1, g2, g3, out var j0, out var j8, out var j4, out var j12);
        Store(j0, c, dst);
        Store(j8, c + 8, dst);
        Store(j4, c + 4, dst);
        Store(j12, c + 12, dst);
    }

    /// <summary>The last two transpose stages: dwords c, c + 8, c + 4, c + 12 of all 16 rows from g0 .. g3 (rows 0-3, 4-7,
    /// 8-11, 12-15, each holding dwords c, c + 4, c + 8, c + 12 in its 128-bit lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pairs(Vector512<uint> g0, Vector512<uint> g1, Vector512<uint> g2, Vector512<uint> g3,
        out Vector512<uint> c0, out Vector512<uint> c8, out Vector512<uint> c4, out Vector512<uint> c12)
    {
        // 0x88 takes 128-bit lanes 0 and 2 of each source, 0xDD lanes 1 and 3.
        var a = Avx512F.Shuffle4x128(g0, g1, 0x88); var b = Avx512F.Shuffle4x128(g0, g1, 0xDD);
        var a2 = Avx512F.Shuffle4x128(g2, g3, 0x88); var b2 = Avx512F.Shuffle4x128(g2, g3, 0xDD);
        c0 = Avx512F.Shuffle4x128(a, a2, 0x88);
        c8 = Avx512F.Shuffle4x128(a, a2, 0xDD);
        c4 = Avx512F.Shuffle4x128(b, b2, 0x88);
        c12 = Avx512F.Shuffle4x128(b, b2, 0xDD);
    }

    /// <summary>The AVX2 transpose of 8 rows: k = i .. i + 15 as 8 dwords a row, three stages of 8 shuffles; dword j of
    /// the 8 rows is stored widened at dst[2j·16 ..] (k = i + 2j) and dst[(2j + 1)·16 ..] (lanes 0-7 of the panel
    /// when dst is its start, 8-15 when dst is 8 further).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose8(ushort** rows, int i, float* dst)
    {
        var r0 = Avx.LoadVector256((uint*)(rows[0] + i)); var r1 = Avx.LoadVector256((uint*)(rows[1] + i));
        var r2 = Avx.LoadVector256((uint*)(rows[2] + i)); var r3 = Avx.LoadVector256((uint*)(rows[3] + i));
        var r4 = Avx.LoadVector256((uint*)(rows[4] + i)); var r5 = Avx.LoadVector256((uint*)(rows[5] + i));
        var r6 = Avx.LoadVector256((uint*)(rows[6] + i)); var r7 = Avx.LoadVector256((uint*)(rows[7] + i));
        // In each 128-bit lane q: u(4g + c) = dword 4q + c of rows 4g .. 4g + 3.
        Quad8(r0, r1, r2, r3, out var u0, out var u1, out var u2, out var u3);
        Quad8(r4, r5, r6, r7, out var u4, out var u5, out var u6, out var u7);
        // 0x20: the low 128-bit lanes of both (dword c); 0x31: the high ones (dword c + 4).
        Store8(Avx2.Permute2x128(u0, u4, 0x20), 0, dst); Store8(Avx2.Permute2x128(u0, u4, 0x31), 4, dst);
        Store8(Avx2.Permute2x128(u1, u5, 0x20), 1, dst); Store8(Avx2.Permute2x128(u1, u5, 0x31), 5, dst);
        Store8(Avx2.Permute2x128(u2, u6, 0x20), 2, dst); Store8(Avx2.Permute2x128(u2, u6, 0x31), 6, dst);
        Store8(Avx2.Permute2x128(u3, u7, 0x20), 3, dst); Store8(Avx2.Permute2x128(u3, u7, 0x31), 7, dst);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad8(Vector256<uint> a, Vector256<uint> b, Vector256<uint> c, Vector256<uint> d,
        out Vector256<uint> c0, out Vector256<uint> c1, out Vector256<uint> c2, out Vector256<uint> c3)
    {
        var ab0 = Avx2.UnpackLow(a, b).AsUInt64(); var ab1 = Avx2.UnpackHigh(a, b).AsUInt64();
        var cd0 = Avx2.UnpackLow(c, d).AsUInt64(); var cd1 = Avx2.UnpackHigh(c, d).AsUInt64();
        c0 = Avx2.UnpackLow(ab0, cd0).AsUInt32(); c1 = Avx2.UnpackHigh(ab0, cd0).AsUInt32();
        c2 = Avx2.UnpackLow(ab1, cd1).AsUInt32(); c3 = Avx2.UnpackHigh(ab1, cd1).AsUInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store8(Vector256<uint> pairs, int j, float* dst)
    {
        (pairs << 16).AsSingle().Store(dst + 2 * j * PanelCols);
        (pairs & Vector256.Create(0xFFFF0000u)).AsSingle().Store(dst + (2 * j + 1) * PanelCols);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store(Vector512<uint> pairs, int j, float* dst)
    {
        (pairs << 16).AsSingle().Store(dst + 2 * j * PanelCols);
        (pairs & Vector512.Create(0xFFFF0000u)).AsSingle().Store(dst + (2 * j + 1) * PanelCols);
    }

    private readonly record struct Job(float[] X, int Rows, MappedBf16Weight W, int PerChunk, float[]? Bias, float[] Y, float[][] Scratch);
}
