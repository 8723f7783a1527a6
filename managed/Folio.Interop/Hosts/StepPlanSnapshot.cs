using System.Runtime.InteropServices;
using Folio.Core.Scheduling;
using Folio.Interop.Abi;

namespace Folio.Interop.Hosts;

/// <summary>
/// The object behind a folio_step_plan handle: an immutable copy of a <see cref="StepPlan"/> (which the
/// scheduler reuses) as flat pinned arrays, plus the view struct that points into them.
/// </summary>
public sealed unsafe class StepPlanSnapshot
{
    private readonly object[] _pinned;

    public StepPlanSnapshot(StepPlan plan, int blockSizeTokens, SchedulerHost owner)
    {
        Owner = owner;
        StepIndex = plan.StepIndex;
        ReadOnlySpan<ScheduledSequence> seqs = plan.Sequences;
        int rows = seqs.Length;
        int width = 0;
        int logits = 0;
        long sampled = 0;
        foreach (ScheduledSequence e in seqs)
        {
            width = Math.Max(width, e.Table.NumBlocks);
            if (e.NumSamples > 0)
            {
                logits++;
                sampled += e.NumSamples;
            }
        }
        var seqIds = Pinned<long>(rows);
        var requestIds = Pinned<long>(rows);
        var queryStart = Pinned<int>(rows + 1);
        var contextLens = Pinned<int>(rows);
        var tables = Pinned<int>(rows * width);
        var logitsIndex = Pinned<int>(logits);
        var logitsRow = Pinned<int>(logits);
        var numSamples = Pinned<int>(logits);
        var suppress = Pinned<int>(logits);
        Array.Fill(tables, -1);
        int l = 0;
        for (int r = 0; r < rows; r++)
        {
            ScheduledSequence e = seqs[r];
            seqIds[r] = e.Sequence.Id;
            requestIds[r] = e.Sequence.Request.Id;
            queryStart[r] = e.TokenOffset;
            contextLens[r] = e.StartPosition + e.NumTokens;
            e.Table.Blocks.CopyTo(tables.AsSpan(r * width, width));
            if (e.NumSamples > 0)
            {
                logitsIndex[l] = e.TokenOffset + e.NumTokens - 1;
                logitsRow[l] = r;
                numSamples[l] = e.NumSamples;
                suppress[l] = e.SuppressStopTokens ? 1 : 0;
                l++;
            }
        }
        queryStart[rows] = plan.NumTokens;
        var tokenIds = Copy(plan.TokenIds);
        var positions = Copy(plan.Positions);
        var slots = Copy(plan.SlotMapping);
        var copies = Pairs(plan.BlockCopies.Count, i => (plan.BlockCopies[i].SrcBlock, plan.BlockCopies[i].DstBlock));
        var swapIn = Pairs(plan.SwapIn.Count, i => (plan.SwapIn[i].SrcBlock, plan.SwapIn[i].DstBlock));
        var swapOut = Pairs(plan.SwapOut.Count, i => (plan.SwapOut[i].SrcBlock, plan.SwapOut[i].DstBlock));
        _pinned = [seqIds, requestIds, queryStart, contextLens, tables, logitsIndex, logitsRow, numSamples, suppress,
            tokenIds, positions, slots, copies, swapIn, swapOut];
        NumSampled = sampled;
        View = new FolioStepPlanView
        {
            StructSize = (uint)sizeof(FolioStepPlanView),
            BlockSizeTokens = blockSizeTokens,
            StepId = (ulong)plan.StepIndex,
            NumSeqs = rows,
            SeqIds = Address(seqIds),
            RequestIds = Address(requestIds),
            QueryStart = Address(queryStart),
            ContextLens = Address(contextLens),
            NumTokens = plan.NumTokens,
            TokenIds = Address(tokenIds),
            Positions = Address(positions),
            SlotMapping = Address(slots),
            MaxBlocksPerSeq = width,
            BlockTables = Address(tables),
            NumLogits = logits,
            LogitsTokenIndex = Address(logitsIndex),
            LogitsSeqRow = Address(logitsRow),
            NumSamples = Address(numSamples),
            SuppressStop = Address(suppress),
            NumSampled = sampled,
            NumBlockCopies = plan.BlockCopies.Count,
            BlockCopies = Address(copies),
            NumSwapIn = plan.SwapIn.Count,
            SwapIn = Address(swapIn),
            NumSwapOut = plan.SwapOut.Count,
            SwapOut = Address(swapOut),
        };
    }

    public long StepIndex { get; }
    public SchedulerHost Owner { get; }

    /// <summary>The host destroyed the handle while the plan was outstanding: released after its update.</summary>
    internal bool ReleaseRequested { get; set; }
    public long NumSampled { get; }
    public FolioStepPlanView View { get; }

    /// <summary>Arrays kept alive (and pinned) for the view's pointers.</summary>
    internal int NumArrays => _pinned.Length;

    // At least one element, so every pointer of the view is non-NULL even when its count is 0.
    private static T[] Pinned<T>(int length) where T : unmanaged => GC.AllocateArray<T>(Math.Max(1, length), pinned: true);

    private static int[] Copy(ReadOnlySpan<int> source)
    {
        int[] array = Pinned<int>(source.Length);
        source.CopyTo(array);
        return array;
    }

    private static int[] Pairs(int count, Func<int, (int Src, int Dst)> pair)
    {
        int[] array = Pinned<int>(count * 2);
        for (int i = 0; i < count; i++) (array[2 * i], array[2 * i + 1]) = pair(i);
        return array;
    }

    private static T* Address<T>(T[] array) where T : unmanaged => (T*)Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
}
