namespace Folio.Core.Compute;

/// <summary>
/// A MatMul weight [Rows = out, Cols = in] in one of llama.cpp's k-quant formats, its super-blocks exactly as the
/// file stores them: row-major, each row Cols / 256 blocks of <see cref="KQuantFormats.BlockBytes"/> bytes (rows
/// may have been reordered, e.g. llama's q/k un-permuted, but no block is changed). Checked on construction:
/// Cols a multiple of 256 and the byte count Rows · Cols / 256 · block bytes.
/// </summary>
public sealed class KQuantRows
{
    public KQuantRows(string name, KQuantFormat format, int rows, int cols, byte[] blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (rows <= 0 || cols <= 0 || cols % KQuantFormats.BlockElements != 0)
            throw new ArgumentException($"tensor '{name}': {format.Name()} needs whole rows of 256-weight blocks, shape is [{rows}, {cols}]");
        long expected = (long)rows * (cols / KQuantFormats.BlockElements) * format.BlockBytes();
        if (blocks.LongLength != expected)
            throw new ArgumentException($"tensor '{name}': {blocks.LongLength} bytes for a {format.Name()} [{rows}, {cols}] tensor, which takes {expected}");
        Name = name;
        Format = format;
        Rows = rows;
        Cols = cols;
        Blocks = blocks;
    }

    public string Name { get; }
    public KQuantFormat Format { get; }
    public int Rows { get; }
    public int Cols { get; }
    public byte[] Blocks { get; }
    public int RowBytes => Cols / KQuantFormats.BlockElements * Format.BlockBytes();
}
