namespace Folio.Core.Compute;

/// <summary>
/// A MatMul weight [Rows = out, Cols = in] in one of llama.cpp's k-quant formats, its super-blocks exactly as the
/// file stores them: row-major, each row Cols / 256 blocks of <see cref="KQuantFormats.BlockBytes"/> bytes (rows
/// may have been reordered, e.g. llama's q/k un-permuted, but no block is changed). Checked on construction:
/// Cols a multiple of 256 and the byte count Rows · Cols / 256 · block bytes.
/// </summary>
/// <remarks>A weight source hands these out before the backend decides whether it keeps k-quant blocks at all (a
/// backend without k-quant kernels, or one asked to quantize its own way, declines and the tensor is read as fp32),
/// so the blocks can be read lazily: <see cref="Blocks"/> reads them on first use, and a declined tensor's bytes
/// are never read. A backend that repacks them reads them with <see cref="CopyBlocksTo"/> into its own (transient)
/// buffer instead, so no managed copy is left behind for the garbage collector.</remarks>
public sealed class KQuantRows
{
    private byte[]? _blocks;
    private readonly BlockReader? _read;

    /// <summary>Writes the tensor's blocks, exactly <c>destination.Length</c> bytes, into <paramref name="destination"/>.</summary>
    public delegate void BlockReader(Span<byte> destination);

    public KQuantRows(string name, KQuantFormat format, int rows, int cols, byte[] blocks)
        : this(name, format, rows, cols, (blocks ?? throw new ArgumentNullException(nameof(blocks))).LongLength, read: null)
    {
        _blocks = blocks;
    }

    /// <summary>Blocks read by <paramref name="read"/> when used; <paramref name="byteLength"/> is what the
    /// source says they take (checked now against the shape).</summary>
    public KQuantRows(string name, KQuantFormat format, int rows, int cols, long byteLength, BlockReader? read)
    {
        if (rows <= 0 || cols <= 0 || cols % KQuantFormats.BlockElements != 0)
            throw new ArgumentException($"tensor '{name}': {format.Name()} needs whole rows of 256-weight blocks, shape is [{rows}, {cols}]");
        long expected = (long)rows * (cols / KQuantFormats.BlockElements) * format.BlockBytes();
        if (byteLength != expected)
            throw new ArgumentException($"tensor '{name}': {byteLength} bytes for a {format.Name()} [{rows}, {cols}] tensor, which takes {expected}");
        Name = name;
        Format = format;
        Rows = rows;
        Cols = cols;
        _read = read;
    }

    public string Name { get; }
    public KQuantFormat Format { get; }
    public int Rows { get; }
    public int Cols { get; }
    public int RowBytes => Cols / KQuantFormats.BlockElements * Format.BlockBytes();

    /// <summary>The blocks, read from the source on first use and kept.</summary>
    public byte[] Blocks => _blocks ??= ReadBlocks();

    /// <summary>The blocks into <paramref name="destination"/> (<see cref="Rows"/> · <see cref="RowBytes"/> bytes), read
    /// from the source again unless <see cref="Blocks"/> holds them; nothing is kept.</summary>
    public void CopyBlocksTo(Span<byte> destination)
    {
        if (destination.Length != (long)Rows * RowBytes)
            throw new ArgumentException($"tensor '{Name}': {destination.Length} bytes of room for {(long)Rows * RowBytes} bytes of blocks");
        if (_blocks is not null)
            _blocks.CopyTo(destination);
        else
            _read!(destination);
    }

    private byte[] ReadBlocks()
    {
        var bytes = new byte[(long)Rows * RowBytes];
        _read!(bytes);
        return bytes;
    }
}
