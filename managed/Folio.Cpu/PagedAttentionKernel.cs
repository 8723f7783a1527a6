using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary>
/// Causal attention over the paged cache, one row and one or more KV heads per work item (all of a row's KV heads
/// when the step has rows enough to keep every thread busy; a lone row's heads split evenly over the threads; one otherwise): every query head of a KV head's group
/// (GQA) attends to each cached position up to the row's own (from the window's first position under sliding-window
/// attention; slot offsets found through the block table once per item). With AVX-512 and head sizes a multiple of
/// 16, <see cref="OnlineSoftmaxAttention"/>: one pass over K and V in blocks of 16 positions. Otherwise the two-pass
/// path (<see cref="TwoPass{T, TLoad}"/>, fp32 or bf16 cache): all of the item's KV heads position by position, four
/// positions per dot call (four FMA chains overlap), a max-subtracted softmax (vector exp), then the weighted sum of V
/// in position order (four positions per pass over a head's sums). Prefill over cached blocks plus new tokens and
/// decode are the same loop (a decode row is a sequence with one query row). A sequence with many query rows (a
/// prompt; <see cref="RowTiles"/>) goes, where the one-pass kernel runs, in items of up to 16 of its rows × one KV
/// head instead (<see cref="OnlineSoftmaxAttention.RunRows"/>): the rows share each block's K and V reads and, without
/// a sliding window, one transposed K block for all their scores. No item shares a reduction with another, and a
/// query head's arithmetic depends only on its own row, whichever rows and heads share its item: batch invariant, and
/// a prompt row's bits are those it gets decoded alone.
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
        int kvPerItem = KvHeadsPerItem(rows, shape.NumKvHeads, runner.Threads);
        int itemsPerRow = shape.NumKvHeads / kvPerItem;
        // Sequences of many query rows (prompts) go in tiles of rows × one KV head (RowTiles); the others row by row.
        var tiles = new RowTiles(batch, OnlineSoftmaxAttention.Supports(shape.HeadDim));
        int tileItems = tiles.Count * shape.NumKvHeads;
        int items = tileItems + (tiles.Rows < rows ? rows * itemsPerRow : 0);
        // Row → sequence (built once per step by the context), so that a work item finds its block table without a search.
        var job = new Job(qkv, shape, cache, layer, batch, scale, slidingWindow, output, step.SequenceOfRow, kvPerItem, tiles, tileItems);
        runner.For(items, work, job, static (j, item) =>
        {
            var batch = j.Batch;
            if (item < j.TileItems)
            {
                // Longest tiles first (the causal mask gives a prompt's later rows more positions): the threads, which
                // claim items in order, finish together.
                (int ts, int tileStart, int tileRows) = j.Tiles.Find(item / j.Shape.NumKvHeads);
                TileItem(j, ts, tileStart, tileRows, item % j.Shape.NumKvHeads);
                return;
            }
            item -= j.TileItems;
            int perRow = j.Shape.NumKvHeads / j.KvPerItem;
            int r = item / perRow;
            int kvHead = item % perRow * j.KvPerItem;
            int s = j.SequenceOfRow[r];
            int queryLength = batch.QueryStarts[s + 1] - batch.QueryStarts[s];
            if (j.Tiles.IsTiled(queryLength))
                return;  // in a tile item
            int position = batch.ContextLengths[s] - queryLength + (r - batch.QueryStarts[s]);
            int first = j.SlidingWindow > 0 ? Math.Max(0, position - j.SlidingWindow + 1) : 0;
            Item(j.Qkv, j.Shape, j.Cache, j.Layer, batch.BlockTable(s), first, position, r, kvHead, j.KvPerItem, j.Scale, j.Output);
        });
    }

    /// <summary>
    /// Rows tileStart .. tileStart + tileRows − 1 (of sequence s) and KV head kvHead through
    /// <see cref="OnlineSoftmaxAttention.RunRows"/>: one slot list over the positions of all the rows (from the first
    /// row's first to the last row's own), each row's part of it starting at its own first position, as in
    /// <see cref="Item"/>; so each row's bits are those of its own item.
    /// </summary>
    private static void TileItem(in Job j, int s, int tileStart, int tileRows, int kvHead)
    {
        var batch = j.Batch;
        int d = j.Shape.HeadDim;
        int group = j.Shape.NumHeads / j.Shape.NumKvHeads;
        int queryLength = batch.QueryStarts[s + 1] - batch.QueryStarts[s];
        int position0 = batch.ContextLengths[s] - queryLength + (tileStart - batch.QueryStarts[s]);
        int last = position0 + tileRows - 1;
        int first0 = j.SlidingWindow > 0 ? Math.Max(0, position0 - j.SlidingWindow + 1) : 0;
        Span<int> starts = stackalloc int[tileRows];
        Span<int> counts = stackalloc int[tileRows];
        for (int i = 0; i < tileRows; i++)
        {
            int position = position0 + i;
            int first = j.SlidingWindow > 0 ? Math.Max(0, position - j.SlidingWindow + 1) : 0;
            starts[i] = first - first0;
            counts[i] = position + 1 - first;
        }
        // Every row's positions rounded up to a multiple of 16 end at most 15 past the last position's entry.
        int count = last + 1 - first0;
        int[] slots = Buffers.Slots(count + OnlineSoftmaxAttention.Block);
        FillSlots(slots, j.Cache, batch.BlockTable(s), first0, last, kvHead * d);
        slots.AsSpan(count, OnlineSoftmaxAttention.Block).Fill(slots[0]);
        var cache = j.Cache;
        int headFloats = group * d;
        int cols = j.Qkv.Cols;
        ReadOnlySpan<float> q = j.Qkv.Data.AsSpan(tileStart * cols + kvHead * headFloats, (tileRows - 1) * cols + headFloats);
        Span<float> acc = j.Output.Data.AsSpan(tileStart * j.Output.Cols + kvHead * headFloats, (tileRows - 1) * j.Output.Cols + headFloats);
        (int lowest, int highest) = Extremes(slots, count);
        if (cache.DType == DType.BF16)
        {
            ushort[] keys16 = cache.Keys16[j.Layer], values16 = cache.Values16[j.Layer];
            RequireInside(keys16, values16, lowest, highest, d);
            OnlineSoftmaxAttention.RunRows<ushort, Bf16Elements>(ref MemoryMarshal.GetArrayDataReference(keys16),
                ref MemoryMarshal.GetArrayDataReference(values16), slots.AsSpan(0, count + OnlineSoftmaxAttention.Block), starts, counts,
                q, cols, acc, j.Output.Cols, 1, group, d, j.Scale);
            return;
        }
        float[] keys = cache.Keys[j.Layer], values = cache.Values[j.Layer];
        RequireInside(keys, values, lowest, highest, d);
        OnlineSoftmaxAttention.RunRows<float, F32Elements>(ref MemoryMarshal.GetArrayDataReference(keys),
            ref MemoryMarshal.GetArrayDataReference(values), slots.AsSpan(0, count + OnlineSoftmaxAttention.Block), starts, counts,
            q, cols, acc, j.Output.Cols, 1, group, d, j.Scale);
    }

    /// <summary>slots[t − first] = the cache offset of position t's K (and V) row of the KV head at headOffset, for
    /// t in first .. last: through the block table once a block.</summary>
    private static void FillSlots(int[] slots, CpuKvCache cache, ReadOnlySpan<int> blockTable, int first, int last, int headOffset)
    {
        int bs = cache.BlockSizeTokens;
        int slotFloats = cache.SlotFloats;
        for (int t = first; t <= last;)
        {
            int block = blockTable[t / bs];
            int end = Math.Min(last + 1, (t / bs + 1) * bs);
            for (; t < end; t++)
                slots[t - first] = (block * bs + t % bs) * slotFloats + headOffset;
        }
    }

    /// <summary>Rows per thread from which an item takes all of a row's KV heads.</summary>
    private const int RowsPerThreadForWholeRows = 4;

    /// <summary>
    /// KV heads per work item. All of a row's when there are rows enough (a block's K rows of every head are then one
    /// contiguous run of the cache). A single row (batch-1 decode), whose items all cost the same, in as many equal
    /// items as there are threads where its KV heads divide evenly: b8's 4 heads on 2 threads as 2 items of 2 heads,
    /// each reading 256 contiguous bytes a position and hinting its next block into L2 (items of one head take no
    /// hints); on the Zen 4 VM b8's int4 batch-1 step (cpu-step decode1, 4 alternated rounds) spent 0.16–0.21 ms in
    /// PagedAttention against 0.19–0.22 with four one-head items (bench/RESULTS.md).
    /// Otherwise one KV head an item, so that every thread has work and the dealing balances. The grouping changes no
    /// arithmetic (a query head's depends only on its own row).
    /// </summary>
    internal static int KvHeadsPerItem(int rows, int kvHeads, int threads)
    {
        if (rows >= RowsPerThreadForWholeRows * threads)
            return kvHeads;
        if (rows == 1 && kvHeads % threads == 0)
            return kvHeads / threads;
        return 1;
    }

    /// <summary>KV heads kvHead .. kvHead + kvHeads − 1 of one row, all their query heads.</summary>
    private static void Item(CpuTensor qkv, AttentionShape shape, CpuKvCache cache, int layer, ReadOnlySpan<int> blockTable,
        int first, int position, int row, int kvHead, int kvHeads, float scale, CpuTensor output)
    {
        int d = shape.HeadDim;
        int group = shape.NumHeads / shape.NumKvHeads;
        int count = position + 1 - first;  // positions first .. position
        // Slot offsets (the same in K and V) of the positions for the item's first KV head, looked up through the
        // block table once; padded to whole blocks of 16 with the first position's slot for the one-pass kernel.
        // Per-thread buffers: no pool call per item.
        int padded = (count + OnlineSoftmaxAttention.Block - 1) / OnlineSoftmaxAttention.Block * OnlineSoftmaxAttention.Block;
        int[] slots = Buffers.Slots(padded);
        FillSlots(slots, cache, blockTable, first, position, kvHead * d);
        slots.AsSpan(count, padded - count).Fill(slots[0]);
        ReadOnlySpan<float> q = qkv.Row(row).Slice(kvHead * group * d, kvHeads * group * d);
        Span<float> acc = output.Row(row).Slice(kvHead * group * d, kvHeads * group * d);
        // The unchecked refs below stay inside the layer's arrays: every slot offset + the item's heads' values ≤ the
        // layer's cache length (the checked spans of the lowest and highest slot prove it once per item), the q and
        // output slices are checked spans.
        (int lowest, int highest) = Extremes(slots, count);
        if (cache.DType == DType.BF16)
        {
            ushort[] keys16 = cache.Keys16[layer], values16 = cache.Values16[layer];
            RequireInside(keys16, values16, lowest, highest, kvHeads * d);
            ref ushort k16 = ref MemoryMarshal.GetArrayDataReference(keys16);
            ref ushort v16 = ref MemoryMarshal.GetArrayDataReference(values16);
            if (OnlineSoftmaxAttention.Supports(d))
                OnlineSoftmaxAttention.Run<ushort, Bf16Elements>(ref k16, ref v16, slots.AsSpan(0, padded), count, q, acc, kvHeads, group, d, scale);
            else
                TwoPass<ushort, Bf16Elements>(ref k16, ref v16, slots, count, q, acc, kvHeads, group, d, scale);
            return;
        }
        float[] keys = cache.Keys[layer];
        float[] values = cache.Values[layer];
        RequireInside(keys, values, lowest, highest, kvHeads * d);
        ref float k0 = ref MemoryMarshal.GetArrayDataReference(keys);
        ref float v0 = ref MemoryMarshal.GetArrayDataReference(values);
        if (OnlineSoftmaxAttention.Supports(d))
        {
            OnlineSoftmaxAttention.Run<float, F32Elements>(ref k0, ref v0, slots.AsSpan(0, padded), count, q, acc, kvHeads, group, d, scale);
            return;
        }
        TwoPass<float, F32Elements>(ref k0, ref v0, slots, count, q, acc, kvHeads, group, d, scale);
    }

    /// <summary>
    /// The query heads of KV heads 0 .. kvHeads − 1 (from k0 and v0, fp32 or bf16 elements) without AVX-512 (or with
    /// a head size not a multiple of 16): scores, a max-subtracted softmax, then the weighted V sums in position order.
    /// Position by position over all the item's KV heads, so that K and V are read as the cache lays them out (a
    /// position's heads side by side, a block's positions one after another) rather than one head's rows at a stride of
    /// the slot, with the rows <see cref="Ahead"/> positions on hinted into L1; each query head's operations and their
    /// order are those of one head alone (<see cref="AttentionMath.Dot4{T, TLoad}"/>'s dots, V in position order, four
    /// positions per pass over a head's sums; a group's heads three at a time through Dot4x3 and Axpy4x3, which load and
    /// widen each row once for the three and keep each head's operations). On an AVX2-only Zen 3, b8's fp32 cache read
    /// head by head took 13.7–16.1 ms of a 32-sequence step, 7.3–8.2 ms so (bench/RESULTS.md, twentieth session). Refs
    /// unchecked, as in <see cref="Item"/>.
    /// </summary>
    internal static void TwoPass<T, TLoad>(ref T k0, ref T v0, int[] slots, int count, ReadOnlySpan<float> q, Span<float> acc,
        int kvHeads, int group, int d, float scale)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        int heads = kvHeads * group;
        int rowElements = kvHeads * d;
        // Scores of query head g at [g·count, (g+1)·count).
        float[] scores = Buffers.Scores(count * heads);
        ref float s0 = ref MemoryMarshal.GetArrayDataReference(scores);
        ref float q0 = ref MemoryMarshal.GetReference(q);
        // Scores: four positions at a time (four independent dot chains per query head).
        int i = 0;
        for (; i + 4 <= count; i += 4)
        {
            int t0 = slots[i], t1 = slots[i + 1], t2 = slots[i + 2], t3 = slots[i + 3];
            if (i + Ahead + 4 <= count)
                Hint(ref k0, slots, i + Ahead, rowElements);
            // A KV head's query heads three at a time (each K row widened once for the three), the rest one by one.
            for (int h = 0; h < kvHeads; h++)
            {
                int ko = h * d, g = h * group, end = g + group;
                ref T r0 = ref Unsafe.Add(ref k0, t0 + ko);
                ref T r1 = ref Unsafe.Add(ref k0, t1 + ko);
                ref T r2 = ref Unsafe.Add(ref k0, t2 + ko);
                ref T r3 = ref Unsafe.Add(ref k0, t3 + ko);
                for (; g + 3 <= end; g += 3)
                    AttentionMath.Dot4x3<T, TLoad>(ref Unsafe.Add(ref q0, g * d), d, ref r0, ref r1, ref r2, ref r3, d, scale,
                        ref Unsafe.Add(ref s0, g * count + i), count);
                for (; g < end; g++)
                    AttentionMath.Dot4<T, TLoad>(ref Unsafe.Add(ref q0, g * d), ref r0, ref r1, ref r2, ref r3, d, scale, ref Unsafe.Add(ref s0, g * count + i));
            }
        }
        for (; i < count; i++)
            for (int g = 0; g < heads; g++)
                Unsafe.Add(ref s0, g * count + i) =
                    AttentionMath.Dot<T, TLoad>(ref Unsafe.Add(ref q0, g * d), ref Unsafe.Add(ref k0, slots[i] + g / group * d), d) * scale;
        Span<float> inverse = stackalloc float[heads];
        for (int g = 0; g < heads; g++)
            inverse[g] = 1f / AttentionMath.ExpShiftedInPlace(scores.AsSpan(g * count, count));
        acc.Slice(0, heads * d).Clear();
        ref float a0 = ref MemoryMarshal.GetReference(acc);
        // V in position order, four positions per pass over a head's sums (the same FMAs in the same order as one
        // position at a time; the sums stay in registers across the four).
        i = 0;
        for (; i + 4 <= count; i += 4)
        {
            int t0 = slots[i], t1 = slots[i + 1], t2 = slots[i + 2], t3 = slots[i + 3];
            if (i + Ahead + 4 <= count)
                Hint(ref v0, slots, i + Ahead, rowElements);
            // As the scores: a KV head's query heads three at a time (each V row widened once for the three).
            for (int h = 0; h < kvHeads; h++)
            {
                int vo = h * d, g = h * group, end = g + group;
                ref T r0 = ref Unsafe.Add(ref v0, t0 + vo);
                ref T r1 = ref Unsafe.Add(ref v0, t1 + vo);
                ref T r2 = ref Unsafe.Add(ref v0, t2 + vo);
                ref T r3 = ref Unsafe.Add(ref v0, t3 + vo);
                for (; g + 3 <= end; g += 3)
                    AttentionMath.Axpy4x3<T, TLoad>(ref Unsafe.Add(ref s0, g * count + i), count, ref r0, ref r1, ref r2, ref r3,
                        ref Unsafe.Add(ref a0, g * d), d, d);
                for (; g < end; g++)
                {
                    ref float sg = ref Unsafe.Add(ref s0, g * count + i);
                    AttentionMath.Axpy4<T, TLoad>(sg, Unsafe.Add(ref sg, 1), Unsafe.Add(ref sg, 2), Unsafe.Add(ref sg, 3), ref r0, ref r1, ref r2, ref r3,
                        ref Unsafe.Add(ref a0, g * d), d);
                }
            }
        }
        for (; i < count; i++)
            for (int g = 0; g < heads; g++)
                AttentionMath.Axpy<T, TLoad>(Unsafe.Add(ref s0, g * count + i), ref Unsafe.Add(ref v0, slots[i] + g / group * d), ref Unsafe.Add(ref a0, g * d), d);
        for (int g = 0; g < heads; g++)
            AttentionMath.Scale(acc.Slice(g * d, d), inverse[g]);
    }

    /// <summary>Positions ahead of the one being read whose K (or V) rows <see cref="TwoPass{T, TLoad}"/> hints into L1.</summary>
    private const int Ahead = 8;

    /// <summary>Hints the rows of positions at .. at + 3 (<paramref name="elements"/> each, from their slots) into L1, a
    /// cache line at a time.</summary>
    private static unsafe void Hint<T>(ref T base0, int[] slots, int at, int elements) where T : unmanaged
    {
        int step = 64 / sizeof(T);
        for (int j = 0; j < 4; j++)
        {
            ref T row = ref Unsafe.Add(ref base0, slots[at + j]);
            for (int e = 0; e < elements; e += step)
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref row, e)));
        }
    }

    /// <summary>Throws (a span's range check) unless the lowest and highest slots' <paramref name="width"/> values lie
    /// inside both arrays: then every slot's do, and the kernels' unchecked refs stay in bounds.</summary>
    private static void RequireInside<T>(T[] keys, T[] values, int lowest, int highest, int width)
    {
        _ = keys.AsSpan(lowest, width);
        _ = keys.AsSpan(highest, width);
        _ = values.AsSpan(lowest, width);
        _ = values.AsSpan(highest, width);
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
            ThreadBuffer.AtLeast(ref _scores, length, MinScores);

        public static int[] Slots(int length) =>
            ThreadBuffer.AtLeast(ref _slots, length, MinScores);
    }

    private readonly record struct Job(CpuTensor Qkv, AttentionShape Shape, CpuKvCache Cache, int Layer, AttentionBatch Batch,
        float Scale, int SlidingWindow, CpuTensor Output, int[] SequenceOfRow, int KvPerItem, RowTiles Tiles, int TileItems);
}
