using System.Numerics;

namespace Folio.Core.Simulation;

/// <summary>
/// Binary buddy allocation over [0, CapacitySlots): a request takes an aligned block of the next power of two
/// of its size; freed blocks merge with their free buddy. The paper's Orca baselines place KV buffers this way
/// (§6.1), which is why their bars show large "external fragmentation &amp; others": the power-of-two rounding
/// and the holes between blocks. A capacity that is not a power of two is cut into its largest aligned
/// power-of-two pieces (15,728 = 8,192 + 4,096 + 2,048 + 1,024 + 256 + 64 + 32 + 16); those never merge.
/// Free blocks of each order are kept sorted by address and the lowest is taken, so runs are deterministic.
/// </summary>
public sealed class BuddyAllocator : IContiguousAllocator
{
    private readonly SortedSet<int>[] _free;   // _free[order] = start slots of free blocks of 2^order slots

    public BuddyAllocator(int capacitySlots)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacitySlots);
        CapacitySlots = capacitySlots;
        int maxOrder = BitOperations.Log2((uint)capacitySlots);
        _free = new SortedSet<int>[maxOrder + 1];
        for (int i = 0; i <= maxOrder; i++) _free[i] = [];
        int start = 0;
        for (int order = maxOrder; order >= 0; order--)
        {
            if ((capacitySlots & (1 << order)) == 0) continue;
            _free[order].Add(start);   // start is a multiple of 2^order: only larger pieces precede it
            start += 1 << order;
        }
        FreeSlots = capacitySlots;
    }

    public int CapacitySlots { get; }
    public int FreeSlots { get; private set; }

    public int Footprint(int slots) => (int)BitOperations.RoundUpToPowerOf2((uint)slots);

    public bool CanAllocate(int slots) => slots > 0 && FindOrder(OrderOf(slots)) >= 0;

    public int Allocate(int slots)
    {
        int want = slots > 0 ? OrderOf(slots) : -1;
        int order = want >= 0 ? FindOrder(want) : -1;
        if (order < 0) throw new InvalidOperationException($"no free block for {slots} slots; call CanAllocate first");
        int start = _free[order].Min;
        _free[order].Remove(start);
        // Split down: keep the low half, free the high half at each level.
        while (order > want)
        {
            order--;
            _free[order].Add(start + (1 << order));
        }
        FreeSlots -= 1 << want;
        return start;
    }

    public void Free(int start, int slots)
    {
        int order = OrderOf(slots);
        if (start < 0 || start % (1 << order) != 0 || start + (1 << order) > CapacitySlots)
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, +{slots}) is not a block of this pool");
        FreeSlots += 1 << order;
        while (order < _free.Length - 1)
        {
            int buddy = start ^ (1 << order);
            if (!_free[order].Remove(buddy)) break;   // buddy in use (or outside the pool): stop merging
            start = Math.Min(start, buddy);
            order++;
        }
        if (!_free[order].Add(start)) throw new InvalidOperationException($"block at {start} freed twice");
    }

    private int OrderOf(int slots) => BitOperations.Log2(BitOperations.RoundUpToPowerOf2((uint)slots));

    private int FindOrder(int want)
    {
        for (int order = want; order < _free.Length; order++)
            if (_free[order].Count > 0) return order;
        return -1;
    }
}
