using System.Runtime.InteropServices;

namespace Folio.Cpu.Weights;

/// <summary>
/// The call into an emitted k-quant tile (<see cref="Q4KEmittedTile"/>, <see cref="Q6KEmittedTile"/>): both take the
/// same operands, the per-row table being Q4_K's paired sums or Q6_K's offsets.
/// </summary>
internal static unsafe class KQuantTileCall
{
    [StructLayout(LayoutKind.Sequential)]
    public struct Args
    {
        public sbyte* X;            // 0: signed x_q of row r (Int8Activations.Signed)
        public nint RowBytes;       // 8
        public byte* W;             // 16: panel p's super-block 0
        public nint PanelBytes;     // 24: bytes between panel p and p + 1
        public float* XScales;      // 32: the row's scale of super-block 0 (Int8Activations.Scales, one per 256 inputs)
        public nint XScaleStride;   // 40: bytes between rows of XScales (blocks · 4)
        public int* Table;          // 48: the row's entry 0 of the tile's table (paired sums, or Q6_K offsets)
        public nint TableStride;    // 56: bytes between rows of Table
        public nint Blocks;         // 64: super-blocks along k (at least 1)
        public float* Y;            // 72: y[r, c]
        public nint YStride;        // 80
        public float* Bias;         // 88: bias[c] (the variant with a bias only)
    }

    /// <summary>Runs <paramref name="code"/> on rows r .. of panels p and p + 1 of <paramref name="part"/> (panel blocks
    /// of <paramref name="blockBytes"/>), the row table <paramref name="table"/> holding <paramref name="tablePerRow"/>
    /// ints a row.</summary>
    public static void Run(nint code, Int8Activations act, int r, KQuantWeight w, KQuantWeight.Part part, int p, float[]? bias, float[] y,
        int blockBytes, int[] table, int tablePerRow)
    {
        int blocks = w.BlocksPerRow;
        nint ps = (nint)blocks * blockBytes;
        int c0 = part.FirstRow + p * KQuantWeight.PanelCols;
        fixed (sbyte* x = act.Signed)
        fixed (byte* panels = part.Panels)
        fixed (float* xs = act.Scales)
        fixed (int* rowTable = table)
        fixed (float* yp = y)
        fixed (float* bp = bias)
        {
            var args = new Args
            {
                X = x + (nint)r * act.RowBytes,
                RowBytes = act.RowBytes,
                W = panels + p * ps,
                PanelBytes = ps,
                XScales = xs + (nint)r * blocks,
                XScaleStride = (nint)blocks * 4,
                Table = rowTable + (nint)r * tablePerRow,
                TableStride = (nint)tablePerRow * 4,
                Blocks = blocks,
                Y = yp + (nint)r * w.Rows + c0,
                YStride = (nint)w.Rows * 4,
                Bias = bp is null ? null : bp + c0,
            };
            // No GC transition: the tile runs a few µs at most, touches only pinned memory, never blocks or calls back.
            ((delegate* unmanaged[SuppressGCTransition]<Args*, void>)code)(&args);
        }
    }
}
