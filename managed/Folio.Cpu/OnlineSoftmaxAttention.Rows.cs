using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Folio.Cpu;

internal static partial class OnlineSoftmaxAttention
{
    /// <summary>
    /// <see cref="Run"/> for several query rows of one sequence that share a KV head's cache (a prompt's rows): row i
    /// attends to the positions at slots[starts[i] .. starts[i] + counts[i]) (at least counts[i] rounded up to a
    /// multiple of 16 entries there, the extra ones any valid slot), its q at q[i·qStride ..] and its output at
    /// output[i·outputStride ..]. Block by block, every row that still has positions takes that block, so each
    /// block's K and V rows are read from L2 once and then from L1. Where the rows' blocks are the same positions
    /// (all rows from the same first position, one KV head: no sliding window cuts into the tile), the block's K is
    /// transposed once and the scores of all the rows' heads come from <see cref="TransposedScores"/>, without
    /// <see cref="Scores"/>'s shuffles. Either way each row runs exactly <see cref="Run"/>'s operations in its order
    /// (the same Begin, Step and End on its own state, the same score bits): the same bits as alone, whichever rows
    /// share the call.
    /// </summary>
    public static void RunRows<T, TLoad>(ref T keys, ref T values, ReadOnlySpan<int> slots, ReadOnlySpan<int> starts,
        ReadOnlySpan<int> counts, ReadOnlySpan<float> q, int qStride, Span<float> output, int outputStride,
        int kvHeads, int group, int d, float scale)
        where T : unmanaged where TLoad : struct, ICacheElements<T>
    {
        int rows = starts.Length, heads = kvHeads * group;
        _ = counts[rows - 1];
        int longest = 0;
        // Shared blocks: every row from slot 0, counts not decreasing (so the rows with positions left in a block
        // are a suffix of the tile).
        bool shared = kvHeads == 1;
        for (int i = 0; i < rows; i++)
        {
            _ = slots[starts[i] + (counts[i] + Block - 1) / Block * Block - 1];
            longest = Math.Max(longest, counts[i]);
            shared &= starts[i] == 0 && (i == 0 || counts[i] >= counts[i - 1]);
        }
        Span<float> qs = Buffers.Query(rows * heads * d);
        Span<float> sums = Buffers.Sums(rows * heads * Block);
        Span<float> max = Buffers.Max(rows * heads);
        // The V sums in a buffer of the thread's own until End: the output rows' head boundaries are cache lines
        // that the items of the neighbouring KV heads, on the other threads, write too.
        Span<float> accs = Buffers.Acc(rows * heads * d);
        Span<float> weights = stackalloc float[group * Block];
        Span<float> transposed = shared ? Buffers.Transposed(d * Block) : default;
        Span<float> scored = shared ? Buffers.Scored(rows * heads * Block) : default;
        for (int i = 0; i < rows; i++)
            Begin(q.Slice(i * qStride, heads * d), qs.Slice(i * heads * d, heads * d), sums.Slice(i * heads * Block, heads * Block),
                max.Slice(i * heads, heads), accs.Slice(i * heads * d, heads * d), heads, d, scale);
        ref float acc = ref MemoryMarshal.GetReference(accs);
        ref int s0 = ref MemoryMarshal.GetReference(slots);
        int firstRow = 0;
        for (int b = 0; b < longest; b += Block)
        {
            if (shared)
            {
                while (counts[firstRow] <= b)
                    firstRow++;
                TransposedScores.Transpose<T, TLoad>(ref keys, ref Unsafe.Add(ref s0, b), d, transposed);
                TransposedScores.Compute(qs.Slice(firstRow * heads * d), transposed, (rows - firstRow) * heads, d,
                    scored.Slice(firstRow * heads * Block));
            }
            for (int i = firstRow; i < rows; i++)
            {
                int count = counts[i];
                if (b >= count)
                    continue;
                Step<T, TLoad>(ref keys, ref values, ref Unsafe.Add(ref s0, starts[i] + b), Math.Min(Block, count - b),
                    ref qs[i * heads * d], ref sums[i * heads * Block], ref max[i * heads], ref Unsafe.Add(ref acc, i * heads * d),
                    ref MemoryMarshal.GetReference(weights), kvHeads, group, d, shared,
                    ref shared ? ref scored[i * heads * Block] : ref Unsafe.NullRef<float>(), 0);
            }
        }
        for (int i = 0; i < rows; i++)
            End(sums.Slice(i * heads * Block, heads * Block), accs.Slice(i * heads * d, heads * d), output.Slice(i * outputStride, heads * d), heads, d);
    }
}
