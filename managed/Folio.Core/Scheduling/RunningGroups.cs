using System.Runtime.CompilerServices;
using Folio.Core.KvCache;

namespace Folio.Core.Scheduling;

/// <summary>
/// The running groups in service order, each with the references the decode fast path needs — its one live
/// sequence and that sequence's block table — kept beside it in flat arrays. Why: reached through the group
/// (group → sequence → table) the three objects are three cache misses one after the other for every running
/// sequence and step, which at ~1,000 sequences (past the L2 cache) is most of the schedule's time; read from
/// here, all three addresses are known at once and the loads overlap. The references are hints, never the
/// truth: <see cref="SingleLive"/> checks them against the objects it reads anyway and refreshes them when a
/// group's sequence or table changed (a fork, a preemption, a re-admission).
/// </summary>
internal sealed class RunningGroups
{
    private SequenceGroup[] _groups = new SequenceGroup[64];
    private Sequence?[] _sequences = new Sequence?[64];
    private BlockTable?[] _tables = new BlockTable?[64];

    public int Count { get; private set; }

    public SequenceGroup this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)index >= (uint)Count)
                ThrowIndex(index);   // a call, not an inlined throw: its message's formatting state would be zeroed in the caller's frame every iteration
            return _groups[index];
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowIndex(int index) => throw new ArgumentOutOfRangeException(nameof(index), index, $"{Count} groups are running.");

    /// <summary>
    /// The live sequence of running group <paramref name="index"/> when it has exactly one live sequence (else
    /// null); its GPU table is then <see cref="TableOf"/>. Reads the group, the sequence and the table in parallel
    /// from the hints, and refreshes the hints when they no longer describe the group. (A return value, not out
    /// parameters: locals whose address is taken live on the stack, and the scheduler's loop reloaded them.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Sequence? SingleLive(int index, SequenceGroup g)
    {
        var s = _sequences[index];
        var t = _tables[index];
        // A group with one live sequence has exactly one unfinished member: s is it if s belongs to g and runs. A
        // request's only sequence (Alone) is that without reading the group's live count: the group object stays
        // out of the loop's loads.
        if (s is not null && t is not null && ReferenceEquals(s.Table, t) && !s.IsFinished && (s.Alone || g.NumLive == 1)
            && ReferenceEquals(s.Group, g))
        {
            return s;
        }
        return Refresh(index, g);
    }

    /// <summary>The table of the sequence that <see cref="SingleLive"/> just returned for <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public BlockTable TableOf(int index) => _tables[index]!;

    private Sequence? Refresh(int index, SequenceGroup g)
    {
        if (g.NumLive != 1)
        {
            _sequences[index] = null;
            _tables[index] = null;
            return null;
        }
        var seq = g.FirstLive();
        _sequences[index] = seq;
        _tables[index] = seq.Table!;
        return seq;
    }

    public void Insert(int index, SequenceGroup g)
    {
        if ((uint)index > (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Count} groups are running.");
        if (Count == _groups.Length)
            Grow();
        int tail = Count - index;
        Array.Copy(_groups, index, _groups, index + 1, tail);
        Array.Copy(_sequences, index, _sequences, index + 1, tail);
        Array.Copy(_tables, index, _tables, index + 1, tail);
        _groups[index] = g;
        _sequences[index] = null;   // filled by the first SingleLive
        _tables[index] = null;
        Count++;
    }

    public void RemoveAt(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Count} groups are running.");
        Count--;
        int tail = Count - index;
        Array.Copy(_groups, index + 1, _groups, index, tail);
        Array.Copy(_sequences, index + 1, _sequences, index, tail);
        Array.Copy(_tables, index + 1, _tables, index, tail);
        Clear(Count);
    }

    /// <summary>Removes <paramref name="g"/>; false when it is not running.</summary>
    public bool Remove(SequenceGroup g)
    {
        int index = IndexOf(g, 0);
        if (index < 0)
            return false;
        RemoveAt(index);
        return true;
    }

    /// <summary>
    /// Removes the groups that have no live sequence left. <paramref name="finished"/> lists them in the order
    /// they finished, which is service order whenever the step's rows were: then each is found by comparing
    /// references (no group is read) and the groups between them move as whole runs (one bulk copy per run and
    /// array, not a write barrier per moved reference). A list in another order falls back to reading each group's
    /// live count.
    /// </summary>
    public void RemoveFinished(List<SequenceGroup> finished)
    {
        int next = 0, kept = 0, from = 0;
        while (next < finished.Count)
        {
            int at = IndexOf(finished[next], from);
            if (at < 0)
                break;
            MoveRun(from, kept, at - from);
            kept += at - from;
            from = at + 1;
            next++;
        }
        MoveRun(from, kept, Count - from);
        kept += Count - from;
        for (int i = kept; i < Count; i++)
            Clear(i);
        Count = kept;
        if (next != finished.Count)
            RemoveDead();
    }

    private int IndexOf(SequenceGroup g, int from)
    {
        // By reference, not Array.IndexOf: its comparer calls Equals on each element, reading every group object.
        for (int i = from; i < Count; i++)
        {
            if (ReferenceEquals(_groups[i], g))
                return i;
        }
        return -1;
    }

    private void MoveRun(int from, int to, int length)
    {
        if (from == to || length == 0)
            return;
        Array.Copy(_groups, from, _groups, to, length);
        Array.Copy(_sequences, from, _sequences, to, length);
        Array.Copy(_tables, from, _tables, to, length);
    }

    private void RemoveDead()
    {
        int kept = 0;
        for (int i = 0; i < Count; i++)
        {
            if (_groups[i].NumLive == 0)
                continue;
            _groups[kept] = _groups[i];
            _sequences[kept] = _sequences[i];
            _tables[kept] = _tables[i];
            kept++;
        }
        for (int i = kept; i < Count; i++)
            Clear(i);
        Count = kept;
    }

    public Enumerator GetEnumerator() => new(this);

    private void Clear(int index)
    {
        _groups[index] = null!;
        _sequences[index] = null;
        _tables[index] = null;
    }

    private void Grow()
    {
        int size = _groups.Length * 2;
        Array.Resize(ref _groups, size);
        Array.Resize(ref _sequences, size);
        Array.Resize(ref _tables, size);
    }

    public struct Enumerator(RunningGroups list)
    {
        private int _index = -1;
        public readonly SequenceGroup Current => list._groups[_index];
        public bool MoveNext() => ++_index < list.Count;
    }
}
