namespace Folio.Core.Simulation;

/// <summary>
/// A model of an allocator that gives each request one contiguous range of KV slots (the Orca baselines).
/// Check, then commit: <see cref="Allocate"/> succeeds whenever <see cref="CanAllocate"/> said so.
/// </summary>
public interface IContiguousAllocator
{
    int CapacitySlots { get; }
    /// <summary>Slots in no allocation (an allocation's rounding slack is not free).</summary>
    int FreeSlots { get; }
    /// <summary>Slots a request of <paramref name="slots"/> occupies once placed (≥ slots: the allocator may round up).</summary>
    int Footprint(int slots);
    bool CanAllocate(int slots);
    /// <summary>Returns the start slot of the range.</summary>
    int Allocate(int slots);
    /// <summary>Frees a range returned by <see cref="Allocate"/> for the same <paramref name="slots"/>.</summary>
    void Free(int start, int slots);
}
