using Folio.Core.Compute;
using Folio.Cpu;
using Xunit;

namespace Folio.Cpu.Tests;

/// <summary>RowTiles covers each row of every sequence of 8+ query rows exactly once, in tiles of at most 16 consecutive
/// rows counted from the sequence's end, longest first; shorter sequences and a disabled kernel get no tiles.</summary>
public class RowTilesTests
{
    private static AttentionBatch Batch(params int[] queryLengths)
    {
        var starts = new int[queryLengths.Length + 1];
        for (int s = 0; s < queryLengths.Length; s++)
            starts[s + 1] = starts[s] + queryLengths[s];
        return new AttentionBatch
        {
            QueryStarts = starts, ContextLengths = queryLengths.Select(q => q + 3).ToArray(),
            BlockTables = new int[queryLengths.Length], BlockTableStride = 1,
        };
    }

    [Fact]
    public void EveryRowOfAPromptIsInOneTileLongestFirst()
    {
        var batch = Batch(1, 37, 7, 8, 128, 16, 17);
        var tiles = new RowTiles(batch, enabled: true);
        Assert.Equal(3 + 1 + 8 + 1 + 2, tiles.Count);
        Assert.Equal(37 + 8 + 128 + 16 + 17, tiles.Rows);
        var seen = new int[batch.NumRows];
        var found = Enumerable.Range(0, tiles.Count).Select(tiles.Find).ToList();
        foreach (var (s, first, rows) in found)
        {
            Assert.InRange(rows, 1, RowTiles.TileRows);
            Assert.InRange(first, batch.QueryStarts[s], batch.QueryStarts[s + 1] - rows);
            // Counted from the end: the last row of the tile is a multiple of 16 rows before the sequence's end.
            Assert.Equal(0, (batch.QueryStarts[s + 1] - first - rows) % RowTiles.TileRows);
            for (int r = first; r < first + rows; r++)
                seen[r]++;
        }
        for (int s = 0; s < batch.NumSequences; s++)
            for (int r = batch.QueryStarts[s]; r < batch.QueryStarts[s + 1]; r++)
                Assert.Equal(batch.QueryStarts[s + 1] - batch.QueryStarts[s] >= RowTiles.MinQueryRows ? 1 : 0, seen[r]);
        // Round 0: each tiled sequence's last tile, in sequence order.
        Assert.Equal(new[] { (1, 1 + 21, 16), (3, 45, 8), (4, 53 + 112, 16), (5, 181, 16), (6, 197 + 1, 16) }, found.Take(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => tiles.Find(tiles.Count));
    }

    [Fact]
    public void NoTilesWhereTheTileKernelDoesNotRun()
    {
        var tiles = new RowTiles(Batch(128, 9), enabled: false);
        Assert.Equal(0, tiles.Count);
        Assert.Equal(0, tiles.Rows);
        Assert.False(tiles.IsTiled(128));
    }
}
