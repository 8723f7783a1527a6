using Folio.Core.KvCache;

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
            if (g.NumLive == 1)
            {
                var seq = FirstLive(g);
                int remaining = seq.NumTokens - seq.NumComputedTokens;
                if (remaining == 1 && _kv.TryAppendInPlace(seq.Table!, seq.Tokens[seq.NumComputedTokens]))
                {
                    // A decode into its own partial block (most steps of most sequences): nothing to check.
                    AddToPlan(g, seq, 1);
                    budget--;
                    i++;
                    continue;
                }
                int chunk = Math.Min(remaining, budget);
                if (chunk < remaining && !_options.EnableChunkedPrefill)
                {
                    i++;
                    continue;
                }
                bool preemptedSelf = false;
                while (!_kv.CanAppend(seq.Table!, chunk))
                {
                    if (!PreemptVictimFor(i))
                    {
                        preemptedSelf = true;
                        break;
                    }
                }
                if (preemptedSelf)
                    continue;   // g left _running at index i
                Commit(g, seq, chunk);
                budget -= chunk;
            }
            else if (g.Recomputing)
            {
                bool preemptedSelf = false;
                while (GroupRecomputeStep(g, budget, commit: false) > _kv.GpuPool.NumFreeBlocks)
                {
                    if (!PreemptVictimFor(i))
                    {
                        preemptedSelf = true;
                        break;
                    }
                }
                if (preemptedSelf)
                    continue;
                budget -= GroupRecomputeStep(g, budget, commit: true);
            }
            else
            {
                if (budget < g.NumLive)
                    break;
                bool preemptedSelf = false;
                while (!GroupCanDecode(g))
                {
                    if (!PreemptVictimFor(i))
                    {
                        preemptedSelf = true;
                        break;
                    }
                }
                if (preemptedSelf)
                    continue;
                budget -= CommitGroupDecode(g);
            }
            i++;
        }

        return budget;
    }

    /// <summary>Phase 2 (only when nothing was preempted): swapped requests come back, oldest first; returns the budget left.</summary>
    private int ScheduleSwappedIn(int budget)
    {
        while (_swapped.Count > 0)
        {
            var g = _swapped.First;
            if (_reservedSeqs + g.Width > _options.MaxNumSeqs)
                break;
            var tables = LiveTables(g);
            if (!_kv.CanSwapIn(tables))
                break;
            _kv.SwapIn(tables, _plan.SwapInMoves);
            _swapped.RemoveFirst();
            SetStatus(g, SequenceStatus.Running);
            InsertRunning(g);
            if (g.NumLive == 1)
            {
                var seq = FirstLive(g);
                int remaining = seq.NumTokens - seq.NumComputedTokens;
                int chunk = Math.Min(remaining, budget);
                if (chunk > 0 && (chunk == remaining || _options.EnableChunkedPrefill) && _kv.CanAppend(seq.Table!, chunk))
                {
                    Commit(g, seq, chunk);
                    budget -= chunk;
                }
            }
            else if (g.Recomputing)
            {
                if (budget > 0 && GroupRecomputeStep(g, budget, commit: false) <= _kv.GpuPool.NumFreeBlocks)
                    budget -= GroupRecomputeStep(g, budget, commit: true);
            }
            else if (budget >= g.NumLive && GroupCanDecode(g))
            {
                budget -= CommitGroupDecode(g);
            }
        }
        return budget;
    }

    /// <summary>Phase 3 (only when none is swapped): waiting requests are admitted in order while their blocks fit.</summary>
    private void ScheduleWaiting(int budget)
    {
        // Head-of-line: a request that does not fit stops admission; none behind it is skipped ahead.
        while (_waiting.Count > 0 && budget > 0)
        {
            var g = _waiting.First;
            if (_reservedSeqs + g.Width > _options.MaxNumSeqs)
                break;
            if (g.NumLive > 1)
            {
                // A group preempted by recompute: all of its sequences' histories must fit, or none is admitted.
                if (!CanAdmitGroup(g))
                    break;
                AdmitGroup(g);
                _waiting.RemoveFirst();
                SetStatus(g, SequenceStatus.Running);
                InsertRunning(g);
                if (GroupRecomputeStep(g, budget, commit: false) <= _kv.GpuPool.NumFreeBlocks)
                    budget -= GroupRecomputeStep(g, budget, commit: true);
                continue;
            }
            var seq = FirstLive(g);
            var hit = _kv.FindCachedPrefix(seq.Tokens, g.CacheKey, seq.Probe ??= new PrefixProbe());
            int remaining = seq.NumTokens - hit.NumCachedTokens;
            int chunk = Math.Min(remaining, budget);
            if (chunk < remaining && !_options.EnableChunkedPrefill)
                break;
            int numTokens = hit.NumCachedTokens + chunk;
            if (!_kv.CanAllocate(hit, numTokens))
                break;
            seq.Table = _kv.Allocate(seq.Tokens, hit, numTokens, g.CacheKey, seq.ReservedTable);
            seq.NumComputedTokens = hit.NumCachedTokens;
            _waiting.RemoveFirst();
            SetStatus(g, SequenceStatus.Running);
            InsertRunning(g);
            AddToPlan(g, seq, chunk);
            budget -= chunk;
        }
    }
}
