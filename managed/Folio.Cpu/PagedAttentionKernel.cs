using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary>
/// Causal attention over the paged cache, one (row, KV head) per work item: every query head of the KV head's
/// group (GQA) is scored against each cached position up to the row's own (from the window's first position under
/// sliding-window attention; slot offsets found through the block table once per item), four positions per dot call
/// so that four FMA chains overlap (a group's K rows, ~40 KB at 150 positions, stay in L2 between its heads); then a
/// max-subtracted softmax (vector exp) and the weighted sum of V in position order, two heads per pass over V. Prefill
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
        int count = position + 1 - first;  // positions first .. position
        // Scores of head g at [g·count, (g+1)·count); slot offsets (the same in K and V) of the positions, looked up
        // through the block table once for both passes. Per-thread buffers: no pool call per item.
        float[] scores = Buffers.Scores(count * group);
        int[] slots = Buffers.Slots(count);
        int bs = cache.BlockSizeTokens;
        int slotFloats = cache.SlotFloats;
        for (int t = first; t <= position;)
        {
            int block = blockTable[t / bs];
            int end = Math.Min(position + 1, (t / bs + 1) * bs);
            for (; t < end; t++)
                slots[t - first] = (block * bs + t % bs) * slotFloats + kvHead * d;
        }
        float[] keys = cache.Keys[layer];
        float[] values = cache.Values[layer];
        // The unchecked refs below stay inside these arrays: every slot offset + d ≤ the layer's cache length (the
        // checked spans of the lowest and highest slot prove it once per item), the q and output slices are checked spans.
        (int lowest, int highest) = Extremes(slots, count);
        _ = keys.AsSpan(lowest, d);
        _ = keys.AsSpan(highest, d);
        _ = values.AsSpan(lowest, d);
        _ = values.AsSpan(highest, d);
        ReadOnlySpan<float> q = qkv.Row(row).Slice(kvHead * group * d, group * d);
        Span<float> acc = output.Row(row).Slice(kvHead * group * d, group * d);
        ref float k0 = ref MemoryMarshal.GetArrayDataReference(keys);
        ref float v0 = ref MemoryMarshal.GetArrayDataReference(values);
        ref float s0 = ref MemoryMarshal.GetArrayDataReference(scores);
        // Scores: four positions at a time per head (four independent dot chains), each dot Dot's own operations.
        for (int g = 0; g < group; g++)
        {
            ref float qg = ref Unsafe.Add(ref MemoryMarshal.GetReference(q), g * d);
            ref float sg = ref Unsafe.Add(ref s0, g * count);
            int i = 0;
            for (; i + 4 <= count; i += 4)
                AttentionMath.Dot4(ref qg, ref Unsafe.Add(ref k0, slots[i]), ref Unsafe.Add(ref k0, slots[i + 1]),
                    ref Unsafe.Add(ref k0, slots[i + 2]), ref Unsafe.Add(ref k0, slots[i + 3]), d, scale, ref Unsafe.Add(ref sg, i));
            for (; i < count; i++)
                Unsafe.Add(ref sg, i) = AttentionMath.Dot(MemoryMarshal.CreateReadOnlySpan(ref qg, d),
                    MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref k0, slots[i]), d)) * scale;
        }
        Span<float> inverse = stackalloc float[group];
        for (int g = 0; g < group; g++)
            inverse[g] = 1f / AttentionMath.ExpShiftedInPlace(scores.AsSpan(g * count, count));
        acc.Clear();
        // V in position order: each output element's multiply-adds in the same order as one Axpy per position.
        if (AttentionMath.RowsOf64(d))
        {
            // 64 columns of two heads (or of the last one) at a time, their sums in registers across all positions.
            ref float a0 = ref MemoryMarshal.GetReference(acc);
            ReadOnlySpan<int> rows = slots.AsSpan(0, count);
            for (int g = 0; g < group; g += 2)
            {
                bool two = g + 1 < group;
                ref float w0 = ref Unsafe.Add(ref s0, g * count);
                ref float w1 = ref Unsafe.Add(ref s0, (two ? g + 1 : g) * count);
                for (int c = 0; c < d; c += 64)
                    AttentionMath.AxpyRows64(ref v0, rows, c, ref w0, ref Unsafe.Add(ref a0, g * d + c),
                        ref w1, ref Unsafe.Add(ref a0, (two ? g + 1 : g) * d + c), two);
            }
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                var v = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref v0, slots[i]), d);
                for (int g = 0; g < group; g++)
                    AttentionMath.Axpy(Unsafe.Add(ref s0, g * count + i), v, acc.Slice(g * d, d));
            }
        }
        for (int g = 0; g < group; g++)
            AttentionMath.Scale(acc.Slice(g * d, d), inverse[g]);
    }

    private static (int Lowest, int Highest) Extremes(int[] slots, int count)
    {
        int lowest = int.MaxValue, highest = int.MinValue;
        for (int i = 0; i < count; i++)
        {
            lowest = Math.Min(lowest, slots[i]);
            highest = Math.Max(highest, slots[i]);
        }
        return (lowest, highest);
    }

    /// <summary>
    /// One scores and one slot buffer per thread, grown to the largest item seen (at least 4,096 floats, so a context
    /// that grows does not allocate in the middle of a run), reused by every item the thread runs.
    /// </summary>
    private static class Buffers
    {
        [ThreadStatic] private static float[]? _scores;
        [ThreadStatic] private static int[]? _slots;

        public static float[] Scores(int length) =>
            _scores is { } s && s.Length >= length ? s : _scores = new float[Math.Max(length, MinScores)];

        public static int[] Slots(int length) =>
            _slots is { } s && s.Length >= length ? s : _slots = new int[Math.Max(length, MinScores)];
    }

    private readonly record struct Job(CpuTensor Qkv, AttentionShape Shape, CpuKvCache Cache, int Layer, AttentionBatch Batch,
        float Scale, int SlidingWindow, CpuTensor Output, int[] SequenceOfRow);
}
