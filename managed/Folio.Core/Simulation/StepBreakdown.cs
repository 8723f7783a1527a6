namespace Folio.Core.Simulation;

/// <summary>
/// Where every KV slot is at the end of one simulated step. The four parts sum to the KV capacity.
/// Definitions (the paper's Fig. 2 categories, in slots):
/// <list type="bullet">
/// <item><see cref="TokenStateSlots"/>: slots holding the KV of tokens already computed (the prompt and the
/// tokens generated so far, counting the one produced this step).</item>
/// <item><see cref="ReservedSlots"/>: allocated slots the request will still fill with tokens it has yet to
/// generate (used later, idle now).</item>
/// <item><see cref="InternalFragSlots"/>: allocated slots the request will never fill, because its allocation
/// is larger than its final length (over-reservation; for paged, the tail of the last block).</item>
/// <item><see cref="ExternalFragSlots"/>: slots in no request's reservation although requests are waiting
/// ("external fragmentation &amp; others" in the paper's legend): holes too small for the head request, free
/// space smaller than it, the buddy allocator's rounding slack around a reservation, and for paged the
/// capacity left over below one block.</item>
/// </list>
/// </summary>
public readonly record struct StepBreakdown(
    long TokenStateSlots, long ReservedSlots, long InternalFragSlots, long ExternalFragSlots, int BatchSize)
{
    public long TotalSlots => TokenStateSlots + ReservedSlots + InternalFragSlots + ExternalFragSlots;
}
