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
/// one instruction instead, its int32 accumulators starting each group at −8 · Σ x_q; the integer sums are exact
/// either way. Each group sum is converted to fp32 and folded in with
/// one FMA per group in group order, so an element's value does not depend on the tile, thread or batch, and
/// the portable path (scalar, same order) gives the same bits.
/// Tiles (<c>Int4Gemm.Tiles.cs</c>): 4 rows × 16 columns (batches), 2 × 32 (prefetching its four weight streams) and
/// 1 × 8 (one panel at a time, one prefetched sequential stream; both <c>Int4Gemm.Decode.cs</c>), over blocks of 256
/// columns; columns of a partial last panel go scalar. Where the CPU has AVX-512 VNNI, strips of 8 rows (and a strip's last
/// 4–7) take the emitted 8 × 16 tile (<see cref="Int4EmittedTile"/>); else with AVX-512 BW and no AVX-VNNI the 512-bit 8 × 16 tile (<c>Int4Gemm.Tiles512.cs</c>).
/// </summary>
internal static partial class Int4Gemm
{
    private const int Panel = Int4Weight.PanelCols;
    private const int Group = Int4Weight.GroupSize;

    public static bool UsesVectors => Avx2.IsSupported;

    /// <summary>Whether batches of 8 rows or more run the emitted AVX-512 VNNI tile (<see cref="Int4EmittedTile"/>).</summary>
    public static bool UsesEmitted => Int4EmittedTile.Available;

    public static string KernelName => UsesVectors
        ? UsesEmitted
            ? "int4 weights (group 32, fp16 scales) x int8 activations per row, nibbles unpacked in registers, AVX-512 VNNI vpdpbusd (emitted 8 x 16 tiles), "
              + (AvxVnni.IsSupported ? "AVX-VNNI vpdpbusd" : "AVX2 vpmaddubsw") + " for 1-3 rows"
            : AvxVnni.IsSupported
            ? "int4 weights (group 32, fp16 scales) x int8 activations per row, nibbles unpacked in registers, AVX-VNNI vpdpbusd"
            : UsesWide
                ? "int4 weights (group 32, fp16 scales) x int8 activations per row, nibbles unpacked in registers, AVX-512 BW vpmaddubsw (8 x 16 tiles) and AVX2"
                : "int4 weights (group 32, fp16 scales) x int8 activations per row, nibbles unpacked in registers, AVX2 vpmaddubsw"
        : "int4 weights (group 32, fp16 scales) x int8 activations per row, portable scalar";

    public static void Run(float[] x, int rows, Int4Weight w, float[]? bias, float[] y, ParallelRunner runner, Int8Activations act)
    {
        act.Quantize(x, rows, w.Cols, groupSums: true);
        RunQuantized(act, rows, w, bias, y, runner, UsesVectors, UsesWide || UsesEmitted, UsesEmitted);
    }

    /// <summary>The GEMM on activations already quantized (with group sums); <paramref name="vectors"/> false forces
    /// the portable path, <paramref name="wide"/> picks the 512-bit 8 × 16 tile for strips of 8 rows (needs AVX-512 BW;
    /// the tests compare all three), <paramref name="emitted"/> the emitted AVX-512 VNNI code for it (<see cref="Int4EmittedTile"/>).</summary>
    internal static void RunQuantized(Int8Activations act, int rows, Int4Weight w, float[]? bias, float[] y, ParallelRunner runner, bool vectors, bool wide,
        bool emitted = false)
    {
        int outCols = w.Rows;
        if (wide && !emitted && !Avx512BW.IsSupported)
            throw new PlatformNotSupportedException("the 8 × 16 int4 tile needs AVX-512 BW");
        if (emitted && !Int4EmittedTile.Available)
            throw new PlatformNotSupportedException("the emitted 8 x 16 int4 tile needs AVX-512 VNNI on Linux x64");
        if (act.Scales.Length < rows || (emitted && act.GroupOffsets.Length < (long)rows * w.Groups) || act.Quants.Length < (long)rows * act.RowBytes || y.Length < (long)rows * outCols || (bias is not null && bias.Length < outCols))
            throw new ArgumentException($"GEMM operands too short for {rows} rows x [{outCols}, {w.Cols}]");
        // Chunks of whole 32-column blocks, several per thread so that uneven chunks even out; decode rows (1 to 3,
        // the prefetching tiles) take two a thread: longer chunks, fewer cold starts (the prefetch runs into the next
        // tile only within a chunk). decode-read 2 40 1 int4 on the Zen 4 VM (2026-12-07), 6 alternated rounds: median 29.4 GB/s
        // at two a thread, 30.0 at one, 26.4 at four.
        int blocks = (outCols + 31) / 32;
        int chunks = Math.Max(1, Math.Min(runner.Threads * (rows <= 3 ? 2 : 4), blocks));
        int perChunk = (blocks + chunks - 1) / chunks * 32;
        chunks = (outCols + perChunk - 1) / perChunk;
        long work = (long)rows * w.Cols * outCols / 4;
        runner.For(chunks, work, new Job(act, rows, w, perChunk, bias, y, vectors, wide, emitted), static (j, chunk) =>
        {
            int c0 = chunk * j.PerChunk;
            Columns(j.Act, j.Rows, j.W, c0, Math.Min(j.W.Rows, c0 + j.PerChunk), j.Bias, j.Y, j.Vectors, j.Wide, j.Emitted);
        });
    }

    private static void Columns(Int8Activations act, int rows, Int4Weight w, int c0, int c1, float[]? bias, float[] y, bool vectors, bool wide, bool emitted)
    {
        if (emitted && wide)
            ColumnBlockWalk.Columns<Int4Weight, VnniTiles>(act, rows, w, w.Rows, c0, c1, bias, y, vectors, eightRows: true);
        else
            ColumnBlockWalk.Columns<Int4Weight, Tiles>(act, rows, w, w.Rows, c0, c1, bias, y, vectors, eightRows: wide);
    }

    /// <summary><see cref="Tiles"/> with the emitted AVX-512 VNNI code as the 8 × 16 tile and for a strip's last 4–7
    /// rows.</summary>
    private readonly struct VnniTiles : IPanelTiles<Int4Weight>
    {
        public static int Panel => Int4Weight.PanelCols;

        public static void Tile8x16(Int8Activations act, int r, Int4Weight w, int c, float[]? bias, float[] y) =>
            Int4EmittedTile.Run(act, r, 8, w, c, bias, y);

        public static bool HasShortStripTile => true;

        public static void TileNx16(Int8Activations act, int r, int n, Int4Weight w, int c, float[]? bias, float[] y) =>
            Int4EmittedTile.Run(act, r, n, w, c, bias, y);

        public static void Tile4x16(Int8Activations act, int r, Int4Weight w, int c, float[]? bias, float[] y) =>
            Tiles.Tile4x16(act, r, w, c, bias, y);

        public static void Tile2x4Panels(Int8Activations act, int r, Int4Weight w, int c, float[]? bias, float[] y) =>
            Tiles.Tile2x4Panels(act, r, w, c, bias, y);

        public static void Tile1xN(Int8Activations act, int r, Int4Weight w, int c, int panels, float[]? bias, float[] y) =>
            Tiles.Tile1xN(act, r, w, c, panels, bias, y);

        public static float Element(Int8Activations act, int r, Int4Weight w, int c) => Int4Gemm.Element(act, r, w, c);
    }

    /// <summary>This kernel's tiles for <see cref="ColumnBlockWalk"/> (a struct: the walk is compiled for it, calls direct).</summary>
    private readonly struct Tiles : IPanelTiles<Int4Weight>
    {
        public static int Panel => Int4Weight.PanelCols;

        public static void Tile8x16(Int8Activations act, int r, Int4Weight w, int c, float[]? bias, float[] y) =>
            Int4Gemm.Tile8x16(act, r, w, c, bias, y);

        public static void Tile4x16(Int8Activations act, int r, Int4Weight w, int c, float[]? bias, float[] y) =>
            Int4Gemm.Tile4x16(act, r, w, c, bias, y);

        public static void Tile2x4Panels(Int8Activations act, int r, Int4Weight w, int c, float[]? bias, float[] y) =>
            Tile2x32(act, r, w, c, bias, y);

        public static void Tile1xN(Int8Activations act, int r, Int4Weight w, int c, int panels, float[]? bias, float[] y)
        {
            for (int p = 0; p < panels; p++)   // one panel at a time: one sequential stream (Int4Gemm.Decode.cs)
                Tile1x8(act, r, w, c + p * Panel, bias, y);
        }

        public static float Element(Int8Activations act, int r, Int4Weight w, int c) => Int4Gemm.Element(act, r, w, c);
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

    private readonly record struct Job(Int8Activations Act, int Rows, Int4Weight W, int PerChunk, float[]? Bias, float[] Y, bool Vectors, bool Wide, bool Emitted);
}
