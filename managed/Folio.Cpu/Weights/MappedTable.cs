using Folio.Core.Compute;
using Folio.Core.Models;

namespace Folio.Cpu.Weights;

/// <summary>
/// The embedding table as the checkpoint stores it (F32, F16 or BF16), read in place through the file's mapping:
/// a lookup widens the rows of the step's tokens, so only the pages of tokens seen become resident (a 128k × 4096
/// bf16 table is 1 GiB on disk, 2 GiB as an fp32 copy). Owns its <see cref="MappedTensor"/>.
/// </summary>
internal sealed class MappedTable : DeviceTensor
{
    private readonly MappedTensor _table;
    private int _disposed;

    public MappedTable(MappedTensor table) : base(checked((int)table.Rows), checked((int)table.Cols), table.DType) => _table = table;

    /// <summary>Row <paramref name="id"/> widened to fp32 into <paramref name="destination"/> (exactly: each format is a subset of fp32).</summary>
    public void CopyRow(int id, Span<float> destination)
    {
        switch (DType)
        {
            case DType.F32:
                MappedRows.Rows<float>(_table, id, 1).CopyTo(destination);
                break;
            case DType.BF16:
                var b = MappedRows.Rows<ushort>(_table, id, 1);
                for (int i = 0; i < b.Length; i++)
                    destination[i] = BitConverter.Int32BitsToSingle(b[i] << 16);
                break;
            default:
                var h = MappedRows.Rows<Half>(_table, id, 1);
                for (int i = 0; i < h.Length; i++)
                    destination[i] = (float)h[i];
                break;
        }
    }

    public override DeviceTensor View(int rows) => throw new InvalidOperationException("a mapped table has no row views");

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _table.Dispose();
        base.Dispose();
    }
}
