using Folio.Core.KvCache;

namespace Folio.Core.Scheduling;

/// <summary>
/// The scheduler's books checked against the KV manager (for tests and debug checks; O(requests + tables)), apart
/// from the scheduler as <see cref="KvInvariants"/> is from the manager: every request is in exactly the queue its
/// status says, each live sequence holds a table where its status says (GPU with every allocated slot computed, CPU,
/// or none), the KV manager has no other live table, and the reserved width is the running requests'.
/// </summary>
internal static class SchedulerInvariants
{
    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first violation.</summary>
    internal static void Check(RunningGroups running, RequestQueue swapped, RequestQueue waiting, int reservedSeqs, KvCacheManager kv)
    {
        int tables = 0;
        int reserved = 0;
        var seen = new HashSet<Request>(ReferenceEqualityComparer.Instance);
        foreach (var group in running)
        {
            var g = group.Request;
            reserved += g.Width;
            tables += CheckGroup(g, SequenceStatus.Running, seen);
        }
        for (int i = 0; i < swapped.Count; i++)
            tables += CheckGroup(swapped[i], SequenceStatus.Swapped, seen);
        for (int i = 0; i < waiting.Count; i++)
            tables += CheckGroup(waiting[i], SequenceStatus.Waiting, seen);
        if (reserved != reservedSeqs)
            throw new InvalidOperationException($"reserved sequences {reservedSeqs}, running requests' widths sum to {reserved}.");
        if (tables != kv.LiveTables.Count)
            throw new InvalidOperationException($"the KV manager has {kv.LiveTables.Count} live tables; the scheduler's sequences hold {tables}.");
    }

    private static int CheckGroup(Request g, SequenceStatus status, HashSet<Request> seen)
    {
        if (!seen.Add(g))
            throw new InvalidOperationException($"{g} is queued twice.");
        return g.Group.Check(status);
    }
}
