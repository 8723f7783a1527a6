using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Folio.Core.Compute;

namespace Folio.Cpu;

/// <summary>
/// Causal attention over the paged cache, one (row, query head) per work item: scores against every cached
/// position up to the row's own (from the window's first position under sliding-window attention; K read
/// through the block table), a max-subtracted softmax, and the weighted sum of V in position order. Prefill over cached blocks plus new tokens and decode are the same loop (a
/// decode row is a sequence with one query row). No item shares a reduction with another: batch invariant.
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
        int items = rows * shape.NumHeads;
        // Row → sequence (built once per step by the context), so that a work item finds its block table without a search.
        var job = new Job(qkv, shape, cache, layer, batch, scale, slidingWindow, output, step.SequenceOfRow);
        runner.For(items, work, job, static (j, item) =>
        {
            var batch = j.Batch;
            int r = item / j.Shape.NumHeads;
            int h = item % j.Shape.NumHeads;
            int s = j.SequenceOfRow[r];
            int queryLength = batch.QueryStarts[s + 1] - batch.QueryStarts[s];
            int position = batch.ContextLengths[s] - queryLength + (r - batch.QueryStarts[s]);
            int first = j.SlidingWindow > 0 ? Math.Max(0, position - j.SlidingWindow + 1) : 0;
            OneHead(j.Qkv, j.Shape, j.Cache, j.Layer, batch.BlockTable(s), first, position, r, h, j.Scale, j.Output);
        });
    }

    private static void OneHead(CpuTensor qkv, AttentionShape shape, CpuKvCache cache, int layer, ReadOnlySpan<int> blockTable,
        int first, int position, int row, int head, float scale, CpuTensor output)
    {
        int d = shape.HeadDim;
        int kvHead = head / (shape.NumHeads / shape.NumKvHeads);
        int bs = cache.BlockSizeTokens;
        int slotFloats = cache.SlotFloats;
        float[] keys = cache.Keys[layer];
        float[] values = cache.Values[layer];
        int count = position + 1 - first;  // positions first .. position
        // One pool bucket for every context up to 4,096 positions: a context that grows into a new bucket would
        // otherwise allocate that bucket's first array in the middle of a run.
        float[] scores = ArrayPool<float>.Shared.Rent(Math.Max(count, MinScores));
        try
        {
            ReadOnlySpan<float> q = qkv.Row(row).Slice(head * d, d);
            float max = float.NegativeInfinity;
            for (int i = 0; i < count; i++)
            {
                int t = first + i;
                int slot = blockTable[t / bs] * bs + t % bs;
                float sc = Dot(q, keys.AsSpan(slot * slotFloats + kvHead * d, d)) * scale;
                scores[i] = sc;
                if (sc > max)
                    max = sc;
            }
            float sum = 0f;
            for (int i = 0; i < count; i++)
            {
                float e = MathF.Exp(scores[i] - max);
                scores[i] = e;
                sum += e;
            }
            Span<float> acc = output.Row(row).Slice(head * d, d);
            acc.Clear();
            for (int i = 0; i < count; i++)
            {
                int t = first + i;
                int slot = blockTable[t / bs] * bs + t % bs;
                Axpy(scores[i], values.AsSpan(slot * slotFloats + kvHead * d, d), acc);
            }
            float inv = 1f / sum;
            for (int i = 0; i < d; i++)
                acc[i] *= inv;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scores);
        }
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        int nv = a.Length & ~7;
        var acc = Vector256<float>.Zero;
        for (int i = 0; i < nv; i += 8)
            acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref ar, (nuint)i), Vector256.LoadUnsafe(ref br, (nuint)i), acc);
        float s = Vector256.Sum(acc);
        for (int i = nv; i < a.Length; i++)
            s += a[i] * b[i];
        return s;
    }

    private static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int nv = x.Length & ~7;
        var va = Vector256.Create(alpha);
        for (int i = 0; i < nv; i += 8)
            Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref yr, (nuint)i))
                .StoreUnsafe(ref yr, (nuint)i);
        for (int i = nv; i < x.Length; i++)
            y[i] += alpha * x[i];
    }

    private readonly record struct Job(CpuTensor Qkv, AttentionShape Shape, CpuKvCache Cache, int Layer, AttentionBatch Batch,
        float Scale, int SlidingWindow, CpuTensor Output, int[] SequenceOfRow);
}
