using System.Buffers;
using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary>
/// Causal attention over the paged cache, one (row, KV head) per work item: every query head of the KV head's
/// group (GQA) is scored against each cached position up to the row's own (from the window's first position under
/// sliding-window attention; K read block by block through the block table), so each K and V row is read once for
/// the whole group; then a max-subtracted softmax (vector exp) and the weighted sum of V in position order. Prefill
/// over cached blocks plus new tokens and decode are the same loop (a decode row is a sequence with one query row).
/// No item shares a reduction with another, and an item's arithmetic depends only on its own row: batch invariant.
/// </summary>
internal static class PagedAttentionKernel
{
    private const int MinScores = 4096;

    public static void Run(CpuTensor qkv, AttentionShape shape, CpuKvCache cache, int layer, CpuStepContext step,
        float scale, int slidingWindow, CpuTensor output, ParallelRunner runner)
    {
        var batch = step.Attention;
        int rows = qkv.Rows;
        long work = 0;
        for (int s = 0; s < batch.NumSequences; s++)
            work += (long)(batch.QueryStarts[s + 1] - batch.QueryStarts[s]) *
                (slidingWindow > 0 ? Math.Min(slidingWindow, batch.ContextLengths[s]) : batch.ContextLengths[s]);
        work *= shape.NumHeads * shape.HeadDim * 2L;
        int items = rows * shape.NumKvHeads;
        // Row → sequence (built once per step by the context), so that a work item finds its block table without a search.
        var job = new Job(qkv, shape, cache, layer, batch, scale, slidingWindow, output, step.SequenceOfRow);
        runner.For(items, work, job, static (j, item) =>
        {
            var batch = j.Batch;
            int r = item / j.Shape.NumKvHeads;
            int kvHead = item % j.Shape.NumKvHeads;
            int s = j.SequenceOfRow[r];
            int queryLength = batch.QueryStarts[s + 1] - batch.QueryStarts[s];
            int position = batch.ContextLengths[s] - queryLength + (r - batch.QueryStarts[s]);
            int first = j.SlidingWindow > 0 ? Math.Max(0, position - j.SlidingWindow + 1) : 0;
            OneGroup(j.Qkv, j.Shape, j.Cache, j.Layer, batch.BlockTable(s), first, position, r, kvHead, j.Scale, j.Output);
        });
    }

    /// <summary>The query heads kvHead·G .. kvHead·G + G − 1 of one row (G = NumHeads / NumKvHeads).</summary>
    private static void OneGroup(CpuTensor qkv, AttentionShape shape, CpuKvCache cache, int layer, ReadOnlySpan<int> blockTable,
        int first, int position, int row, int kvHead, float scale, CpuTensor output)
    {
        int d = shape.HeadDim;
        int group = shape.NumHeads / shape.NumKvHeads;
        int bs = cache.BlockSizeTokens;
        int slotFloats = cache.SlotFloats;
        float[] keys = cache.Keys[layer];
        float[] values = cache.Values[layer];
        int count = position + 1 - first;  // positions first .. position
        // One pool bucket for every context up to 4,096 / G positions: a context that grows into a new bucket would
        // otherwise allocate that bucket's first array in the middle of a run. Scores of head g at [g·count, (g+1)·count).
        float[] scores = ArrayPool<float>.Shared.Rent(Math.Max(count * group, MinScores));
        try
        {
            ReadOnlySpan<float> q = qkv.Row(row).Slice(kvHead * group * d, group * d);
            Span<float> acc = output.Row(row).Slice(kvHead * group * d, group * d);
            // Scores: each K row once for the group, walked block by block (slots of a block are contiguous).
            for (int t = first; t <= position;)
            {
                int block = blockTable[t / bs];
                int end = Math.Min(position + 1, (t / bs + 1) * bs);
                for (; t < end; t++)
                {
                    var k = keys.AsSpan((block * bs + t % bs) * slotFloats + kvHead * d, d);
                    for (int g = 0; g < group; g++)
                        scores[g * count + t - first] = AttentionMath.Dot(q.Slice(g * d, d), k) * scale;
                }
            }
            Span<float> inverse = stackalloc float[group];
            for (int g = 0; g < group; g++)
                inverse[g] = 1f / AttentionMath.ExpShiftedInPlace(scores.AsSpan(g * count, count));
            acc.Clear();
            for (int t = first; t <= position;)
            {
                int block = blockTable[t / bs];
                int end = Math.Min(position + 1, (t / bs + 1) * bs);
                for (; t < end; t++)
                {
                    var v = values.AsSpan((block * bs + t % bs) * slotFloats + kvHead * d, d);
                    for (int g = 0; g < group; g++)
                        AttentionMath.Axpy(scores[g * count + t - first], v, acc.Slice(g * d, d));
                }
            }
            for (int g = 0; g < group; g++)
                AttentionMath.Scale(acc.Slice(g * d, d), inverse[g]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scores);
        }
    }

    private readonly record struct Job(CpuTensor Qkv, AttentionShape Shape, CpuKvCache Cache, int Layer, AttentionBatch Batch,
        float Scale, int SlidingWindow, CpuTensor Output, int[] SequenceOfRow);
}
