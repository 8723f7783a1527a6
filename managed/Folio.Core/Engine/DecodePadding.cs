using Folio.Core.Compute;
using Folio.Core.Models;

namespace Folio.Core.Engine;

/// <summary>
/// A decode step's model input padded to a graph's shape (<see cref="IDecodeGraphs"/>): the real sequences first,
/// unchanged, then padding sequences of one token each (token 0 at position 0, slot −1: no K/V write; a context of
/// one token whose block-table row is all block 0, so attention reads inside the cache), every row a logits row,
/// and the block tables re-laid at the padded width. Arrays are kept for the largest step: nothing is allocated
/// in a steady stream of steps.
/// </summary>
internal sealed class DecodePadding
{
    private readonly ModelInput _padded = new()
    {
        TokenIds = [], Positions = [], SlotMapping = [], LogitRows = [],
        Attention = new AttentionBatch { QueryStarts = [0], ContextLengths = [], BlockTables = [], BlockTableStride = 0 },
    };

    /// <summary>Pads <paramref name="input"/> (a decode step: one token per sequence, every row a logits row) to
    /// <paramref name="batch"/> sequences and <paramref name="width"/> block-table columns.</summary>
    public ModelInput Pad(ModelInput input, int batch, int width)
    {
        var a = input.Attention;
        int s = a.NumSequences;
        if (batch < s || width < a.BlockTableStride)
            throw new ArgumentException($"cannot pad {s} sequences × {a.BlockTableStride} columns to {batch} × {width}");
        var p = _padded;
        var pa = p.Attention;
        if (p.TokenIds.Length < batch)
        {
            int n = Math.Max(batch, 2 * p.TokenIds.Length);
            p.TokenIds = new int[n];
            p.Positions = new int[n];
            p.SlotMapping = new long[n];
            p.LogitRows = new int[n];
            pa.ContextLengths = new int[n];
            pa.QueryStarts = new int[n + 1];
            for (int i = 0; i < n; i++)
                p.LogitRows[i] = i;
            for (int i = 0; i <= n; i++)
                pa.QueryStarts[i] = i;
        }
        if (pa.BlockTables.Length < batch * width)
            pa.BlockTables = new int[Math.Max(batch * width, 2 * pa.BlockTables.Length)];
        input.TokenIds.AsSpan(0, s).CopyTo(p.TokenIds);
        input.Positions.AsSpan(0, s).CopyTo(p.Positions);
        input.SlotMapping.AsSpan(0, s).CopyTo(p.SlotMapping);
        a.ContextLengths.AsSpan(0, s).CopyTo(pa.ContextLengths);
        p.TokenIds.AsSpan(s, batch - s).Clear();
        p.Positions.AsSpan(s, batch - s).Clear();
        p.SlotMapping.AsSpan(s, batch - s).Fill(-1);
        pa.ContextLengths.AsSpan(s, batch - s).Fill(1);
        int stride = a.BlockTableStride;
        var tables = pa.BlockTables.AsSpan(0, batch * width);
        tables.Clear();
        for (int r = 0; r < s; r++)
            a.BlockTables.AsSpan(r * stride, stride).CopyTo(tables.Slice(r * width, width));
        p.NumRows = batch;
        p.NumLogitRows = batch;
        pa.BlockTableStride = width;
        pa.NumSequences = batch;
        return p;
    }
}
