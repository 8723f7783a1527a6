using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Folio.Core.Compute;

namespace Folio.Cpu.Weights;

/// <summary>
/// y[r, o] = s[r] · (row o of a <see cref="KQuantWeight"/> · x_q[r]) (+ bias[o]), the input quantized per row to
/// int8 as for the int8/int4 kernels (<see cref="Int8Activations"/>, with group sums for Q4_K's mins). Threads split
/// the output columns; groups of four rows take <see cref="KQuantDot4"/> (a block unpacked once for four rows), the
/// rest <see cref="KQuantDot"/> (AVX2 with vpdpwssd where AVX-VNNI runs; both give a row the same bits), or the
/// portable scalar loop below without AVX2. An element's value depends on its row and column only.
/// </summary>
internal static class KQuantGemm
{
    public static bool UsesVectors => Avx2.IsSupported && Fma.IsSupported;

    public static string KernelName(KQuantWeight w) =>
        $"{string.Join("+", w.Parts.Select(p => p.Format.Name()).Distinct())} blocks as stored x int8 activations per row, "
        + (UsesVectors ? AvxVnni.IsSupported ? "AVX2 vpmaddubsw + AVX-VNNI vpdpwssd" : "AVX2 vpmaddubsw + vpmaddwd" : "portable scalar");

    public static void Run(float[] x, int rows, KQuantWeight w, float[]? bias, float[] y, ParallelRunner runner, Int8Activations act)
    {
        act.Quantize(x, rows, w.Cols, groupSums: w.HasFormat(KQuantFormat.Q4K));
        if (w.HasFormat(KQuantFormat.Q6K))
            act.ComputeSums16(rows);
        RunQuantized(act, rows, w, bias, y, runner, UsesVectors);
    }

    /// <summary>The GEMM on activations already quantized (with group sums when a part is Q4_K, sums of 16 when Q6_K);
    /// <paramref name="vectors"/> false forces the scalar path (the tests run both).</summary>
    internal static void RunQuantized(Int8Activations act, int rows, KQuantWeight w, float[]? bias, float[] y, ParallelRunner runner, bool vectors)
    {
        int outCols = w.Rows;
        if (act.Scales.Length < rows || act.Signed.Length < (long)rows * act.RowBytes || act.RowBytes < w.Cols
            || y.Length < (long)rows * outCols || (bias is not null && bias.Length < outCols))
            throw new ArgumentException($"GEMM operands too short for {rows} rows x [{outCols}, {w.Cols}]");
        // The vector kernels read these sums unchecked.
        if (vectors && ((w.HasFormat(KQuantFormat.Q4K) && act.GroupSums.Length < (long)rows * (act.RowBytes / 32))
            || (w.HasFormat(KQuantFormat.Q6K) && act.Sums16.Length < (long)rows * (act.RowBytes / 16))))
            throw new ArgumentException("the activations lack the group sums a Q4_K (32) or Q6_K (16) weight needs");
        int chunks = Math.Max(1, Math.Min(runner.Threads * 4, (outCols + 15) / 16));
        int perChunk = (outCols + chunks - 1) / chunks;
        chunks = (outCols + perChunk - 1) / perChunk;
        long work = (long)rows * w.Cols * outCols / 4;
        runner.For(chunks, work, new Job(act, rows, w, perChunk, bias, y, vectors), static (j, chunk) =>
        {
            int c0 = chunk * j.PerChunk;
            Columns(j.Act, j.Rows, j.W, c0, Math.Min(j.W.Rows, c0 + j.PerChunk), j.Bias, j.Y, j.Vectors);
        });
    }

    private readonly record struct Job(Int8Activations Act, int Rows, KQuantWeight W, int PerChunk, float[]? Bias, float[] Y, bool Vectors);

    private static void Columns(Int8Activations act, int rows, KQuantWeight w, int c0, int c1, float[]? bias, float[] y, bool vectors)
    {
        int outCols = w.Rows, blocks = w.BlocksPerRow, groups = act.RowBytes / Int8Weight.GroupSize;
        ref sbyte x0 = ref MemoryMarshal.GetArrayDataReference(act.Signed);
        ref int sums0 = ref MemoryMarshal.GetArrayDataReference(act.GroupSums);
        ref short sixteens0 = ref MemoryMarshal.GetArrayDataReference(act.Sums16);
        int sixteens = act.RowBytes / 16;
        foreach (var part in w.Parts)
        {
            int from = Math.Max(c0, part.FirstRow), to = Math.Min(c1, part.FirstRow + part.Rows);
            ref byte blocks0 = ref MemoryMarshal.GetArrayDataReference(part.Blocks);
            bool q4 = part.Format == KQuantFormat.Q4K;
            for (int c = from; c < to; c++)
            {
                ref byte wr = ref Unsafe.Add(ref blocks0, (nint)((long)(c - part.FirstRow) * part.RowBytes));
                float b = bias?[c] ?? 0f;
                int r = 0;
                if (vectors)
                    for (; r + 4 <= rows; r += 4)
                    {
                        ref sbyte x4 = ref Unsafe.Add(ref x0, (nint)((long)r * act.RowBytes));
                        var dots = q4
                            ? KQuantDot4.Q4K(ref wr, blocks, ref x4, act.RowBytes, ref Unsafe.Add(ref sums0, (nint)((long)r * groups)), groups)
                            : KQuantDot4.Q6K(ref wr, blocks, ref x4, act.RowBytes, ref Unsafe.Add(ref sixteens0, (nint)((long)r * sixteens)), sixteens);
                        for (int i = 0; i < 4; i++)
                            y[(long)(r + i) * outCols + c] = act.Scales[r + i] * dots[i] + b;
                    }
                for (; r < rows; r++)
                {
                    ref sbyte xr = ref Unsafe.Add(ref x0, (nint)((long)r * act.RowBytes));
                    float dot = !vectors ? (q4 ? Q4KScalar(ref wr, blocks, ref xr) : Q6KScalar(ref wr, blocks, ref xr))
                        : q4 ? KQuantDot.Q4K(ref wr, blocks, ref xr, ref Unsafe.Add(ref sums0, (nint)((long)r * groups)))
                        : KQuantDot.Q6K(ref wr, blocks, ref xr, ref Unsafe.Add(ref sixteens0, (nint)((long)r * sixteens)));
                    y[(long)r * outCols + c] = act.Scales[r] * dot + b;
                }
            }
        }
    }

    /// <summary>Portable Q4_K row · x_q: per super-block Σ_j sc_j · Σ q·x_q and Σ_j m_j · Σ x_q exactly in int32, then
    /// acc += d · the first, acc −= dmin · the second (FMA).</summary>
    internal static float Q4KScalar(ref byte w, int blocks, ref sbyte x)
    {
        float acc = 0f;
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref w, b * KQuantFormats.Q4KBlockBytes);
            uint dd = Unsafe.ReadUnaligned<uint>(ref block);
            var (sc03, sc47, m03, m47) = KQuantDot.Q4KScales(ref block);
            int dots = 0, mins = 0;
            for (int j = 0; j < 8; j++)
            {
                int sc = (int)(((j < 4 ? sc03 : sc47) >> (8 * (j % 4))) & 0xFF);
                int m = (int)(((j < 4 ? m03 : m47) >> (8 * (j % 4))) & 0xFF);
                int dot = 0, sum = 0;
                for (int l = 0; l < 32; l++)
                {
                    int q = (Unsafe.Add(ref block, 16 + 32 * (j / 2) + l) >> (4 * (j % 2))) & 0xF;
                    int xq = Unsafe.Add(ref x, b * 256 + 32 * j + l);
                    dot += q * xq;
                    sum += xq;
                }
                dots += sc * dot;
                mins += m * sum;
            }
            acc = MathF.FusedMultiplyAdd(KQuantDot.HalfToSingle(dd), dots, acc);
            acc = MathF.FusedMultiplyAdd(-KQuantDot.HalfToSingle(dd >> 16), mins, acc);
        }
        return acc;
    }

    /// <summary>Portable Q6_K row · x_q: per super-block Σ_j sc_j · Σ (q − 32)·x_q exactly, then acc += d · it.</summary>
    internal static float Q6KScalar(ref byte w, int blocks, ref sbyte x)
    {
        float acc = 0f;
        for (int b = 0; b < blocks; b++)
        {
            ref byte block = ref Unsafe.Add(ref w, b * KQuantFormats.Q6KBlockBytes);
            int dots = 0;
            for (int e = 0; e < 256; e++)
            {
                int g = e / 32, l = e % 32, h = g / 4, r = g % 4;
                int lowBits = (Unsafe.Add(ref block, 64 * h + 32 * (r % 2) + l) >> (4 * (r / 2))) & 0xF;
                int highBits = (Unsafe.Add(ref block, 128 + 32 * h + l) >> (2 * r)) & 3;
                dots += (sbyte)Unsafe.Add(ref block, 192 + e / 16) * ((lowBits | (highBits << 4)) - 32) * Unsafe.Add(ref x, b * 256 + e);
            }
            acc = MathF.FusedMultiplyAdd(KQuantDot.HalfToSingle(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref block, 208))), dots, acc);
        }
        return acc;
    }
}
