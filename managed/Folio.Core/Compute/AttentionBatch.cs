namespace Folio.Core.Compute;

/// <summary>
/// Per-step attention metadata (from the step plan): sequence i owns rows QueryStarts[i] .. QueryStarts[i+1] of
/// the batch, which are its newest tokens; ContextLengths[i] counts its tokens in the cache after this step's
/// K/V write (cached prefix + new tokens), so its new token j sits at position
/// ContextLengths[i] − queryLength + j and attends causally to positions 0 .. that position.
/// Its block table is BlockTables[i × BlockTableStride ..], holding ⌈ContextLengths[i] / block size⌉ ids.
/// </summary>
/// <remarks>The arrays may be longer than the batch (an engine reuses them step after step):
/// <see cref="NumSequences"/> says how much of them is this batch (all of ContextLengths when left unset).</remarks>
public sealed class AttentionBatch
{
    private int _numSequences = -1;

    public required int[] QueryStarts { get; set; }
    public required int[] ContextLengths { get; set; }
    public required int[] BlockTables { get; set; }
    public required int BlockTableStride { get; set; }

    public int NumSequences
    {
        get => _numSequences >= 0 ? _numSequences : ContextLengths.Length;
        set => _numSequences = value;
    }

    public int NumRows => QueryStarts[NumSequences];

    public ReadOnlySpan<int> BlockTable(int sequence) =>
        BlockTables.AsSpan(sequence * BlockTableStride, BlockTableStride);

    /// <summary>Checks internal consistency against a cache's geometry; returns the first problem or null.</summary>
    public string? Validate(int blockSizeTokens, int numBlocks)
    {
        if (NumSequences > ContextLengths.Length || QueryStarts.Length < NumSequences + 1 || QueryStarts[0] != 0)
            return "QueryStarts must have one more entry than the sequences and start at 0";
        if (BlockTables.Length < NumSequences * BlockTableStride)
            return "BlockTables is shorter than NumSequences × BlockTableStride";
        for (int i = 0; i < NumSequences; i++)
        {
            int q = QueryStarts[i + 1] - QueryStarts[i];
            if (q <= 0 || q > ContextLengths[i])
                return $"sequence {i}: {q} query rows for a context of {ContextLengths[i]}";
            int blocks = (ContextLengths[i] + blockSizeTokens - 1) / blockSizeTokens;
            if (blocks > BlockTableStride)
                return $"sequence {i}: context {ContextLengths[i]} needs {blocks} blocks, the table stride is {BlockTableStride}";
            foreach (int b in BlockTable(i)[..blocks])
                if ((uint)b >= (uint)numBlocks)
                    return $"sequence {i}: block id {b} outside the cache ({numBlocks} blocks)";
        }
        return null;
    }
}
