using Folio.Core.KvCache;

namespace Folio.Core.Simulation;

/// <summary>
/// vLLM's policy on the real <see cref="KvCacheManager"/>: blocks of <c>blockSizeTokens</c> slots taken on
/// demand as each sequence grows. Each step first grows every running sequence by one token, oldest first;
/// when no block is free the youngest running sequence is preempted (recompute: its blocks are freed and it
/// goes back to the head of the queue with its generated tokens folded into its prompt). Then, if nothing was
/// preempted, waiting requests are admitted in FIFO order while their prompt (plus the token the prefill
/// produces) fits. As for the Orca policies, only steps that end with requests waiting are measured.
/// </summary>
public static class PagedSimulation
{
    private sealed class Live(SimRequest work, BlockTable table)
    {
        /// <summary>What is left to do: the prompt to (re)compute and the tokens still to generate.</summary>
        public SimRequest Work { get; } = work;
        public BlockTable Table { get; } = table;
        public int Generated { get; set; } = 1;   // the prefill step produces the first token
        public int Computed => Work.InputTokens + Generated;
        public bool Done => Generated >= Work.OutputTokens;
    }

    public static PolicyResult Run(IReadOnlyList<SimRequest> requests, int blockSizeTokens, SimulationOptions options)
    {
        var policy = new PolicySpec(PolicyKind.Paged, blockSizeTokens);
        string? error = policy.Validate(options);
        if (error is not null) throw new ArgumentException(error, nameof(blockSizeTokens));
        SimulationChecks.ThrowIfInvalid(requests, options);

        int bs = blockSizeTokens;
        int numBlocks = options.KvTokens / bs;
        // Capacity below one block cannot hold a block: it is lost to every request ("others").
        long leftoverSlots = options.KvTokens - (long)numBlocks * bs;
        var kv = new KvCacheManager(new KvCacheOptions
        {
            NumGpuBlocks = numBlocks,
            BlockSizeTokens = bs,
            EnablePrefixCaching = false,   // the paper's Fig. 2 workload shares nothing
        });
        // Token ids do not matter without prefix caching; one buffer of zeros serves every call.
        var tokenIds = new int[options.MaxSequenceTokens];
        var copies = new List<BlockCopy>();
        var tally = new MemoryTally(options.KvTokens);
        var running = new List<Live>();
        var resumed = new Stack<SimRequest>();   // preempted work; the top goes first
        int next = 0, completed = 0, preemptions = 0;

        while (next < requests.Count || resumed.Count > 0 || running.Count > 0)
        {
            bool preempted = false;
            for (int i = 0; i < running.Count; i++)
            {
                Live live = running[i];
                bool alive = true;
                while (!kv.CanAppend(live.Table, 1))
                {
                    // Preempt the youngest; preempting older ones first means pushing younger ones last.
                    Live victim = running[^1];
                    kv.Free(victim.Table);
                    running.RemoveAt(running.Count - 1);
                    resumed.Push(new SimRequest(victim.Computed, victim.Work.OutputTokens - victim.Generated));
                    preemptions++;
                    preempted = true;
                    if (ReferenceEquals(victim, live)) { alive = false; break; }
                }
                if (!alive) break;   // it was the youngest: nobody after it is left to grow
                kv.Append(live.Table, tokenIds.AsSpan(0, 1), copies);
                live.Generated++;
            }

            if (!preempted)
            {
                while (TryPeek(requests, next, resumed, out SimRequest head))
                {
                    int promptSlots = head.InputTokens + 1;   // the prompt plus the token its prefill produces
                    if (!kv.CanAllocate(default, promptSlots)) break;
                    BlockTable table = kv.Allocate(tokenIds.AsSpan(0, promptSlots), default, promptSlots, default);
                    running.Add(new Live(head, table));
                    if (resumed.Count > 0) resumed.Pop(); else next++;
                }
            }
            if (running.Count == 0)
                throw new InvalidOperationException("no request fits an empty cache; options were not validated");

            if (next < requests.Count || resumed.Count > 0)
                tally.Add(Measure(kv, running, bs, leftoverSlots));

            for (int i = running.Count - 1; i >= 0; i--)
            {
                if (!running[i].Done) continue;
                kv.Free(running[i].Table);
                running.RemoveAt(i);
                completed++;
            }
        }
        return tally.ToResult(policy, completed, preemptions);
    }

    private static bool TryPeek(IReadOnlyList<SimRequest> requests, int next, Stack<SimRequest> resumed, out SimRequest head)
    {
        if (resumed.Count > 0) { head = resumed.Peek(); return true; }
        if (next < requests.Count) { head = requests[next]; return true; }
        head = default;
        return false;
    }

    // A sequence of final length L holding c computed tokens in A = blocks × bs slots: c token states,
    // min(A, L) − c reserved (its own future tokens will fill them), A − min(A, L) internal fragmentation (the
    // tail of a last block it will never fill). Free blocks and the leftover below one block are
    // "external fragmentation & others". The manager's own statistics must agree with this bookkeeping.
    private static StepBreakdown Measure(KvCacheManager kv, List<Live> running, int bs, long leftoverSlots)
    {
        long tokens = 0, reserved = 0, internalFrag = 0, allocated = 0;
        foreach (Live live in running)
        {
            long slots = (long)live.Table.NumBlocks * bs;
            long final = live.Work.TotalTokens;
            long usable = Math.Min(slots, final);
            tokens += live.Computed;
            reserved += usable - live.Computed;
            internalFrag += slots - usable;
            allocated += slots;
        }
        KvCacheStats stats = kv.GetStats();
        if (stats.TokenStates != tokens || stats.AllocatedSlots != allocated)
            throw new InvalidOperationException(
                $"KV manager reports {stats.TokenStates} token states in {stats.AllocatedSlots} slots; the simulator counts {tokens} in {allocated}");
        return new StepBreakdown(tokens, reserved, internalFrag, (long)stats.FreeBlocks * bs + leftoverSlots, running.Count);
    }
}
