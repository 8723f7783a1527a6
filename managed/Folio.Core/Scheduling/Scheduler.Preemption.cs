namespace Folio.Core.Scheduling;

public sealed partial class Scheduler
{
    /// <summary>
    /// Makes room for running request <paramref name="index"/>: preempts the last running request (newest, or
    /// lowest priority) if it is not the one asking; returns false when the one asking had to be preempted.
    /// </summary>
    private bool PreemptVictimFor(int index)
    {
        int last = _running.Count - 1;
        if (last > index)
        {
            Preempt(last);
            return true;
        }
        Preempt(index);
        return false;
    }

    private void Preempt(int index)
    {
        var g = _running[index];
        var request = g.Request;
        _running.RemoveAt(index);
        _reservedSeqs -= request.Width;
        request.NumPreemptions++;
        _preemptions++;
        _plan.NumPreempted++;
        // A forked group swaps when it can: recomputing it is the costly path (GroupRecompute).
        bool swap = g.NumLive > 1 || _options.PreemptionMode == PreemptionMode.Swap;
        if (swap && _kv.CpuPool is not null)
        {
            var tables = g.LiveTables(ref _groupTables);
            if (_kv.CanSwapOut(tables))
            {
                _kv.SwapOut(tables, _plan.SwapOutMoves);
                g.SetStatus(SequenceStatus.Swapped);
                _swapped.InsertFromFront(request);
                _swaps++;
                return;
            }
        }
        // Recompute: drop the K/V, keep the tokens; readmission prefills each live sequence over its own history,
        // sharing the prompt's blocks again only where they are still in the prefix cache.
        if (g.NumLive > 1)
            _groupRecomputes++;
        g.DropKv(_kv);
        g.SetStatus(SequenceStatus.Waiting);
        _waiting.InsertFromFront(request);
        _recomputes++;
    }
}
