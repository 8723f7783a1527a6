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
        _running.RemoveAt(index);
        _reservedSeqs -= g.Width;
        g.NumPreemptions++;
        _preemptions++;
        _plan.NumPreempted++;
        bool swap = g.NumLive > 1 || _options.PreemptionMode == PreemptionMode.Swap;
        if (swap && _kv.CpuPool is not null)
        {
            var tables = LiveTables(g);
            if (_kv.CanSwapOut(tables))
            {
                _kv.SwapOut(tables, _plan.SwapOutMoves);
                SetStatus(g, SequenceStatus.Swapped);
                _swapped.InsertFromFront(g);
                _swaps++;
                return;
            }
        }
        // Recompute: drop the K/V, keep the tokens (and a beam's cumulative log-probability; finished beams stay
        // as they are). Readmission prefills each live sequence over its own history (prompt + its generated
        // tokens), sharing the prompt's blocks again only where they are still in the prefix cache.
        var list = g.SequenceList;
        for (int s = 0; s < list.Count; s++)
        {
            var seq = list[s];
            if (seq.IsFinished)
                continue;
            _kv.Free(seq.Table!);
            seq.Table = null;
            seq.NumComputedTokens = 0;
        }
        if (g.NumLive > 1)
        {
            g.Recomputing = true;
            _groupRecomputes++;
        }
        SetStatus(g, SequenceStatus.Waiting);
        _waiting.InsertFromFront(g);
        _recomputes++;
    }
}
