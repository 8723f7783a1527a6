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
        foreach (var group in _running)
        {
            var g = group.Request;
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
        return g.Group.Check(status);
    }
}
