namespace Folio.Core.Simulation;

/// <summary>
/// The Orca baselines: each admitted request gets one contiguous buffer of the policy's reservation, placed by
/// the contiguous allocator of <see cref="SimulationOptions.ContiguousAllocator"/> (buddy by default, as the
/// paper's baselines), and keeps it until its last token. The queue is FIFO and saturated: every step admits waiting
/// requests in order while the head one fits (a head that does not fit blocks the rest, as in Orca's
/// iteration-level scheduler), then every running request produces one token. Only steps that end with
/// requests still waiting are measured: that is the saturated regime of the paper's Fig. 2.
/// </summary>
public static class OrcaSimulation
{
    private sealed class Live(SimRequest request, int start, int reservedSlots)
    {
        public SimRequest Request { get; } = request;
        public int Start { get; } = start;
        public int ReservationSlots { get; } = reservedSlots;
        public int Generated { get; set; }
    }

    public static PolicyResult Run(IReadOnlyList<SimRequest> requests, PolicySpec policy, SimulationOptions options)
    {
        if (!policy.IsContiguous) throw new ArgumentException($"{policy.Name} is not a contiguous policy", nameof(policy));
        SimulationChecks.ThrowIfInvalid(requests, options);

        IContiguousAllocator allocator = options.ContiguousAllocator == ContiguousAllocatorKind.Buddy
            ? new BuddyAllocator(options.KvTokens)
            : new FirstFitAllocator(options.KvTokens);
        var tally = new MemoryTally(options.KvTokens);
        var running = new List<Live>();
        int next = 0, completed = 0;
        while (next < requests.Count || running.Count > 0)
        {
            while (next < requests.Count)
            {
                int reservation = policy.ContiguousReservation(requests[next], options.MaxSequenceTokens);
                if (!allocator.CanAllocate(reservation)) break;
                running.Add(new Live(requests[next], allocator.Allocate(reservation), reservation));
                next++;
            }
            if (running.Count == 0)
                throw new InvalidOperationException("the head request fits no empty pool; options were not validated");

            // One iteration: the prefill of a new request produces its first token, a decode one more.
            foreach (var live in running) live.Generated++;

            if (next < requests.Count) tally.Add(Measure(running, allocator));

            for (int i = running.Count - 1; i >= 0; i--)
            {
                var live = running[i];
                if (live.Generated < live.Request.OutputTokens) continue;
                allocator.Free(live.Start, live.ReservationSlots);
                running.RemoveAt(i);
                completed++;
            }
        }
        return tally.ToResult(policy, completed, preemptions: 0);
    }

    // Categories as defined on StepBreakdown: a request of final length L holding c computed tokens in a
    // reservation of R slots has c token states, L - c reserved, R - L internal fragmentation. Everything else
    // is external fragmentation & others: free slots, and the allocator's rounding slack (a buddy block of
    // 2^k slots holding a reservation of R < 2^k): the paper's Oracle bar, reserving exactly, shows no internal
    // fragmentation, so its buddy slack sits in "external fragmentation & others".
    private static StepBreakdown Measure(List<Live> running, IContiguousAllocator allocator)
    {
        long tokens = 0, reserved = 0, internalFrag = 0, slack = 0;
        foreach (var live in running)
        {
            int computed = live.Request.InputTokens + live.Generated;
            tokens += computed;
            reserved += live.Request.TotalTokens - computed;             // filled by tokens still to come
            internalFrag += live.ReservationSlots - live.Request.TotalTokens; // never filled
            slack += allocator.Footprint(live.ReservationSlots) - live.ReservationSlots;
        }
        return new StepBreakdown(tokens, reserved, internalFrag, allocator.FreeSlots + slack, running.Count);
    }
}
