using Folio.Core.KvCache;

namespace Folio.Core.Scheduling;

public sealed partial class Scheduler
{
    /// <summary>
    /// Verifies the scheduler's books against the KV manager (for tests and debug checks; O(requests + tables)):
    /// every request is in exactly the queue its status says, each live sequence holds a table where its status
    /// says (GPU with every allocated slot computed, CPU, or none), the KV manager has no other live table, and
    /// the reserved width is the running requests'. Throws <see cref="InvalidOperationException"/> naming the first violation.
    /// </summary>
    public void CheckConsistency()
    {
        int tables = 0;
        int reserved = 0;
        var seen = new HashSet<Request>(ReferenceEqualityComparer.Instance);
        foreach (var g in _running)
        {
            reserved += g.Width;
            tables += CheckGroup(g, SequenceStatus.Running, seen);
        }
        for (int i = 0; i < _swapped.Count; i++)
            tables += CheckGroup(_swapped[i], SequenceStatus.Swapped, seen);
        for (int i = 0; i < _waiting.Count; i++)
            tables += CheckGroup(_waiting[i], SequenceStatus.Waiting, seen);
        if (reserved != _reservedSeqs)
            throw new InvalidOperationException($"reserved sequences {_reservedSeqs}, running requests' widths sum to {reserved}.");
        if (tables != _kv.LiveTables.Count)
            throw new InvalidOperationException($"the KV manager has {_kv.LiveTables.Count} live tables; the scheduler's sequences hold {tables}.");
    }

    private static int CheckGroup(Request g, SequenceStatus status, HashSet<Request> seen)
    {
        if (!seen.Add(g))
            throw new InvalidOperationException($"{g} is queued twice.");
        if (g.Status != status)
            throw new InvalidOperationException($"{g} sits in the {status} queue.");
        int live = 0;
        foreach (var s in g.SequenceList)
        {
            if (s.IsFinished)
            {
                if (s.Table is not null)
                    throw new InvalidOperationException($"finished {s} still holds a table.");
                continue;
            }
            live++;
            if (s.Status != status)
                throw new InvalidOperationException($"{s} of a {status} request.");
            switch (status)
            {
                case SequenceStatus.Waiting when s.Table is not null || s.NumComputedTokens != 0:
                    throw new InvalidOperationException($"waiting {s} holds K/V.");
                case SequenceStatus.Running when s.Table is not { Location: BlockLocation.Gpu } || s.Table.NumTokens != s.NumComputedTokens:
                    throw new InvalidOperationException($"running {s} has table {s.Table?.Location}/{s.Table?.NumTokens} slots.");
                case SequenceStatus.Swapped when s.Table is not { Location: BlockLocation.Cpu } || s.Table.NumTokens != s.NumComputedTokens:
                    throw new InvalidOperationException($"swapped {s} has table {s.Table?.Location}/{s.Table?.NumTokens} slots.");
            }
            if (s.NumComputedTokens >= s.NumTokens + (status == SequenceStatus.Waiting ? 1 : 0))
                throw new InvalidOperationException($"{s} has nothing left to compute.");
        }
        if (live != g.NumLive || live == 0)
            throw new InvalidOperationException($"{g} counts {g.NumLive} live sequences, has {live}.");
        if (live > 1 && !g.Recomputing && g.SequenceList.Exists(s => !s.IsFinished && s.NumTokens - s.NumComputedTokens != 1))
            throw new InvalidOperationException($"{g} runs {live} sequences that are not all in decode, yet is not recomputing.");
        return status == SequenceStatus.Waiting ? 0 : live;
    }
}
