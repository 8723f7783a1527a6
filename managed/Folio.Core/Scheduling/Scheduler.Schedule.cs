namespace Folio.Core.Scheduling;

/// <summary>The three phases of <see cref="Schedule"/>, in the order it runs them.</summary>
public sealed partial class Scheduler
{
    /// <summary>Phase 1: running requests, in service order, preempting when blocks run out; returns the budget left.</summary>
    private int ScheduleRunning(int budget)
    {
        int i = 0;
        while (i < _running.Count && budget > 0)
        {
            var g = _running[i];
            if (_running.SingleLive(i, g) is { } seq)
            {
                var table = _running.TableOf(i);
                int remaining = seq.NumTokens - seq.NumComputedTokens;
                if (remaining == 1)
                {
                    // A decode into its own partial block (most steps of most sequences): nothing to check, and
                    // the manager hands back the slot it wrote.
                    int token = seq.LastToken;   // remaining == 1: the newest token
                    long slot = _kv.TryAppendDecode(table, token);
                    if (slot >= 0)
                    {
                        _plan.AddDecode(seq, token, slot, table.NumBlocks);
                        budget--;
                        i++;
                        continue;
                    }
                }
                int chunk = Math.Min(remaining, budget);
                if (chunk < remaining && !_options.EnableChunkedPrefill)
                {
                    i++;
                    continue;
                }
                if (!MakeRoom(i, Need.Append, seq, chunk))
                    continue;   // g left _running at index i
                Commit(seq, chunk);
                budget -= chunk;
            }
            else if (g.Recomputing)
            {
                if (!MakeRoom(i, Need.GroupRecompute, null, budget))
                    continue;
                budget -= _groupRecompute.Commit(g, budget);
            }
            else
            {
                if (budget < g.NumLive)
                    break;
                if (!MakeRoom(i, Need.GroupDecode, null, 0))
                    continue;
                budget -= CommitGroupDecode(g);
            }
            i++;
        }
        return budget;
    }

    private enum Need { Append, GroupDecode, GroupRecompute }

    /// <summary>Preempts (the last running request first) until running request <paramref name="index"/> has the
    /// blocks its next step needs; false when it had to be preempted itself (it left <c>_running</c>).</summary>
    private bool MakeRoom(int index, Need need, Sequence? seq, int tokens)
    {
        var g = _running[index];
        while (!(need switch
        {
            Need.Append => _kv.CanAppend(seq!.Table!, tokens),
            Need.GroupDecode => GroupCanDecode(g),
            _ => _groupRecompute.BlocksNeeded(g, tokens) <= _kv.GpuPool.NumFreeBlocks,
        }))
        {
            if (!PreemptVictimFor(index))
                return false;
        }
        return true;
    }

    /// <summary>Phase 2 (only when nothing was preempted): swapped requests come back, oldest first; returns the budget left.</summary>
    private int ScheduleSwappedIn(int budget)
    {
        while (_swapped.Count > 0)
        {
            var request = _swapped.First;
            var g = request.Group;
            if (_reservedSeqs + request.Width > _options.MaxNumSeqs)
                break;
            var tables = g.LiveTables(ref _groupTables);
            if (!_kv.CanSwapIn(tables))
                break;
            _kv.SwapIn(tables, _plan.SwapInMoves);
            _swapped.RemoveFirst();
            g.SetStatus(SequenceStatus.Running);
            InsertRunning(request);
            budget -= StartStep(g, budget);
        }
        return budget;
    }

    /// <summary>The first step of a group just (re)admitted, if its blocks fit now (no preemption for it); returns tokens used.</summary>
    private int StartStep(SequenceGroup g, int budget)
    {
        if (g.NumLive == 1)
        {
            var seq = g.FirstLive();
            int remaining = seq.NumTokens - seq.NumComputedTokens;
            int chunk = Math.Min(remaining, budget);
            if (chunk == 0 || (chunk < remaining && !_options.EnableChunkedPrefill) || !_kv.CanAppend(seq.Table!, chunk))
                return 0;
            Commit(seq, chunk);
            return chunk;
        }
        if (g.Recomputing)
            return budget > 0 && _groupRecompute.BlocksNeeded(g, budget) <= _kv.GpuPool.NumFreeBlocks ? _groupRecompute.Commit(g, budget) : 0;
        return budget >= g.NumLive && GroupCanDecode(g) ? CommitGroupDecode(g) : 0;
    }

    /// <summary>Phase 3 (only when none is swapped): waiting requests are admitted in order while their blocks fit.</summary>
    private void ScheduleWaiting(int budget)
    {
        // Head-of-line: a request that does not fit stops admission; none behind it is skipped ahead.
        while (_waiting.Count > 0 && budget > 0)
        {
            var request = _waiting.First;
            var g = request.Group;
            if (_reservedSeqs + request.Width > _options.MaxNumSeqs)
                break;
            if (g.NumLive > 1)
            {
                // A group preempted by recompute: all of its sequences' histories must fit, or none is admitted.
                if (!_groupRecompute.CanAdmit(g))
                    break;
                _groupRecompute.Admit(g);
                _waiting.RemoveFirst();
                g.SetStatus(SequenceStatus.Running);
                InsertRunning(request);
                budget -= StartStep(g, budget);
                continue;
            }
            var seq = g.FirstLive();
            var hit = _kv.FindCachedPrefix(seq.Tokens, request.CacheKey, seq.Probe ??= new KvCache.PrefixProbe());
            int remaining = seq.NumTokens - hit.NumCachedTokens;
            int chunk = Math.Min(remaining, budget);
            if (chunk < remaining && !_options.EnableChunkedPrefill)
                break;
            int numTokens = hit.NumCachedTokens + chunk;
            if (!_kv.CanAllocate(hit, numTokens))
                break;
            seq.Table = _kv.Allocate(seq.Tokens, hit, numTokens, request.CacheKey, seq.ReservedTable);
            seq.NumComputedTokens = hit.NumCachedTokens;
            // Offered now, not after the forward pass: the requests admitted after this one in the same step hit
            // the blocks this step computes (a batch of requests with one preamble computes it once). Safe because
            // every row's K/V of a layer is written before any row of the step attends.
            _kv.CacheFullBlocks(seq.Table);
            _waiting.RemoveFirst();
            g.SetStatus(SequenceStatus.Running);
            InsertRunning(request);
            _plan.AddChunk(seq, chunk);
            budget -= chunk;
        }
    }
}
