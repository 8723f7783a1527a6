using Folio.Core.Sampling;

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
        if (g.NumLive == 1)
        {
            // Recompute: drop the K/V, keep the tokens; readmission prefills prompt + generated so far.
            var seq = FirstLive(g);
            _kv.Free(seq.Table!);
            seq.Table = null;
            seq.NumComputedTokens = 0;
            SetStatus(g, SequenceStatus.Waiting);
            _waiting.InsertFromFront(g);
            _recomputes++;
            return;
        }
        // Several sequences share blocks that a recompute could not share again; without swap room the
        // request cannot be kept. Finish it with a reason rather than thrash or lose it silently.
        foreach (var seq in g.SequenceList)
        {
            if (!seq.IsFinished)
                FinishSequence(seq, FinishReason.Rejected, null);
        }
        g.Status = SequenceStatus.Finished;
        g.FinishReason = FinishReason.Rejected;
        g.RejectReason = $"preempted with no room in the CPU swap pool: a request running {g.NumLive} sequences (n > 1 or beam search) can only be preempted by swapping; raise NumCpuBlocks.";
        _rejected++;
        _updates.Add(new SequenceUpdate(g, null, 0));
    }
}
