namespace Folio.Core.Simulation;

/// <summary>
/// First-fit allocation of contiguous slot ranges in [0, CapacitySlots): the memory model of systems that
/// store each request's KV cache in one contiguous buffer (Orca, FasterTransformer). Freed ranges merge with
/// free neighbours, yet holes between live buffers remain: that is the external fragmentation of the
/// paper's Fig. 2. Holes are few (at most one more than the live buffers), so a sorted list suffices.
/// </summary>
public sealed class FirstFitAllocator : IContiguousAllocator
{
    // Free holes sorted by start, never adjacent to each other (merged on free).
    private readonly List<(int Start, int Length)> _holes = [];

    public FirstFitAllocator(int capacitySlots)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacitySlots);
        CapacitySlots = capacitySlots;
        _holes.Add((0, capacitySlots));
        FreeSlots = capacitySlots;
    }

    public int CapacitySlots { get; }
    public int FreeSlots { get; private set; }
    public int HoleCount => _holes.Count;

    /// <summary>The largest free contiguous range; a request larger than this cannot be placed.</summary>
    public int LargestHole
    {
        get
        {
            int largest = 0;
            foreach (var hole in _holes) largest = Math.Max(largest, hole.Length);
            return largest;
        }
    }

    /// <summary>First fit places exactly the slots asked for.</summary>
    public int Footprint(int slots) => slots;

    public bool CanAllocate(int slots) => slots > 0 && FindFirstFit(slots) >= 0;

    /// <summary>Places <paramref name="slots"/> at the lowest-addressed hole that fits; returns its start.</summary>
    public int Allocate(int slots)
    {
        int index = slots > 0 ? FindFirstFit(slots) : -1;
        if (index < 0) throw new InvalidOperationException($"no hole of {slots} slots; call CanAllocate first");
        var (start, length) = _holes[index];
        if (length == slots) _holes.RemoveAt(index);
        else _holes[index] = (start + slots, length - slots);
        FreeSlots -= slots;
        return start;
    }

    /// <summary>Returns a range given by <see cref="Allocate"/>; merges it with adjacent holes.</summary>
    public void Free(int start, int slots)
    {
        if (slots <= 0 || start < 0 || start + slots > CapacitySlots)
            throw new ArgumentOutOfRangeException(nameof(slots), $"range [{start}, {start + slots}) is outside the pool");
        int index = 0;
        while (index < _holes.Count && _holes[index].Start < start) index++;
        // The range must not overlap the holes around it (a double free is a caller bug).
        if (index > 0 && _holes[index - 1].Start + _holes[index - 1].Length > start)
            throw new InvalidOperationException($"range [{start}, {start + slots}) overlaps a free hole");
        if (index < _holes.Count && start + slots > _holes[index].Start)
            throw new InvalidOperationException($"range [{start}, {start + slots}) overlaps a free hole");

        bool mergeLeft = index > 0 && _holes[index - 1].Start + _holes[index - 1].Length == start;
        bool mergeRight = index < _holes.Count && start + slots == _holes[index].Start;
        if (mergeLeft && mergeRight)
        {
            var left = _holes[index - 1];
            _holes[index - 1] = (left.Start, left.Length + slots + _holes[index].Length);
            _holes.RemoveAt(index);
        }
        else if (mergeLeft)
        {
            var left = _holes[index - 1];
            _holes[index - 1] = (left.Start, left.Length + slots);
        }
        else if (mergeRight)
        {
            _holes[index] = (start, slots + _holes[index].Length);
        }
        else
        {
            _holes.Insert(index, (start, slots));
        }
        FreeSlots += slots;
    }

    private int FindFirstFit(int slots)
    {
        for (int i = 0; i < _holes.Count; i++)
            if (_holes[i].Length >= slots) return i;
        return -1;
    }
}
