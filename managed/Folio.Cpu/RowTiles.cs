using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary>
/// How <see cref="PagedAttentionKernel"/> groups a step's prompt rows: each sequence of at least
/// <see cref="MinQueryRows"/> query rows is cut into tiles of up to <see cref="TileRows"/> consecutive rows, counted
/// from its last row (so the short tile, if any, is the first, with the fewest positions). Tiles are numbered longest
/// first: round k holds every such sequence's k-th tile from its end, in sequence order. No allocation: a tile is
/// found from the batch on demand.
/// </summary>
internal readonly struct RowTiles
{
    /// <summary>Rows a tile: its q, V sums and softmax state (16 × a GQA group of 64-float heads: 12 KiB each)
    /// stay in L1 beside one block's K and V rows.</summary>
    public const int TileRows = 16;

    /// <summary>Query rows from which a sequence is tiled (below, one row per item keeps the threads busy).</summary>
    public const int MinQueryRows = 8;

    private readonly AttentionBatch _batch;
    private readonly bool _enabled;

    /// <param name="enabled">False where the tile kernel does not run (no AVX-512, or a head size it does not take):
    /// then no sequence is tiled.</param>
    public RowTiles(AttentionBatch batch, bool enabled)
    {
        _batch = batch;
        _enabled = enabled;
        for (int s = 0; s < batch.NumSequences; s++)
        {
            int queryLength = batch.QueryStarts[s + 1] - batch.QueryStarts[s];
            if (IsTiled(queryLength))
            {
                Count += (queryLength + TileRows - 1) / TileRows;
                Rows += queryLength;
            }
        }
    }

    /// <summary>Tiles in the step.</summary>
    public int Count { get; }

    /// <summary>Rows of the tiled sequences.</summary>
    public int Rows { get; }

    public bool IsTiled(int queryLength) => _enabled && queryLength >= MinQueryRows;

    /// <summary>Tile <paramref name="index"/> (&lt; <see cref="Count"/>): its sequence, its first row in the batch and
    /// its number of rows.</summary>
    public (int Sequence, int FirstRow, int Rows) Find(int index)
    {
        for (int k = 0; ; k++)
        {
            bool any = false;
            for (int s = 0; s < _batch.NumSequences; s++)
            {
                int start = _batch.QueryStarts[s], end = _batch.QueryStarts[s + 1];
                if (!IsTiled(end - start) || k * TileRows >= end - start)
                    continue;
                any = true;
                if (index-- > 0)
                    continue;
                int first = Math.Max(start, end - (k + 1) * TileRows);
                return (s, first, end - k * TileRows - first);
            }
            if (!any)
                throw new ArgumentOutOfRangeException(nameof(index), "past the step's last tile");
        }
    }
}
