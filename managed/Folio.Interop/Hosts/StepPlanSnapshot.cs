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
        // The plan is already flat: copy its arrays (the scheduler reuses them at the next schedule, the view must
        // stay valid while the host holds the plan). Only the samplers' rows are narrowed to what level 2 samples
        // (beam candidates are an engine-level feature).
        var seqIds = Copy(plan.SequenceIds);
        var requestIds = Copy(plan.RequestIds);
        var queryStart = Copy(plan.QueryStarts);
        var contextLens = Copy(plan.ContextLengths);
        var tables = Copy(plan.BlockTables);
        var logitsIndex = Copy(plan.LogitsTokenIndex);
        var logitsRow = Copy(plan.LogitsSequenceRow);
        var numSamples = Copy(plan.NumSamples);
        var suppress = Copy(plan.SuppressStop);
        var tokenIds = Copy(plan.TokenIds);
        var positions = Copy(plan.Positions);
        var slots = Narrow(plan.SlotMapping);
        var slots64 = Copy(plan.SlotMapping);
        var copies = Copy(plan.BlockCopyPairs);
        var swapIn = Copy(plan.SwapInPairs);
        var swapOut = Copy(plan.SwapOutPairs);
        _pinned = [seqIds, requestIds, queryStart, contextLens, tables, logitsIndex, logitsRow, numSamples, suppress,
            tokenIds, positions, slots, copies, swapIn, swapOut, slots64];
        int rows = plan.NumSequences;
        int width = plan.BlockTableStride;
        int logits = plan.NumLogitsRows;
        long sampled = plan.NumSampled;
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
            NumBlockCopies = plan.NumBlockCopies,
            BlockCopies = Address(copies),
            NumSwapIn = plan.NumSwapIn,
            SwapIn = Address(swapIn),
            NumSwapOut = plan.NumSwapOut,
            SwapOut = Address(swapOut),
            SlotMappingI64 = Address(slots64),
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

    private static T[] Copy<T>(ReadOnlySpan<T> source) where T : unmanaged
    {
        T[] array = Pinned<T>(source.Length);
        source.CopyTo(array);
        return array;
    }

    // folio.h 1.x declares the slot mapping int32: a slot past 2^31 - 1 cannot be expressed there (checked).
    private static int[] Narrow(ReadOnlySpan<long> source)
    {
        int[] array = Pinned<int>(source.Length);
        for (int i = 0; i < source.Length; i++)
            array[i] = checked((int)source[i]);
        return array;
    }

    private static T* Address<T>(T[] array) where T : unmanaged => (T*)Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
}
