using Folio.Core.KvCache;

namespace Folio.Core.Scheduling;

/// <summary>
/// Recompute for multi-sequence groups (n &gt; 1 after the fork, or beam search): a preempted group lost its K/V
/// but kept every live sequence's tokens. It is readmitted only when all of its sequences' histories fit. The
/// first live sequence (the leader) recomputes the prompt's full blocks unless the prefix cache still holds them;
/// the others then share those blocks (a fork of the leader's table, as after the first prompt), so a group never
/// needs more blocks than it did before. Each sequence then prefills its own history except the last token
/// (chunked, over as many steps as the budget needs, sampling nothing); when the rest of every sequence fits one
/// step's budget, all of them compute their last tokens together and the group samples again (beams step together).
/// </summary>
internal sealed class GroupRecompute(KvCacheManager kv, StepPlan plan, bool chunkedPrefill)
{
    /// <summary>
    /// Whether every live sequence of a waiting group fits the GPU pool over its whole history, after its
    /// prefix-cache hit, counting the prompt's full blocks once (the sequences share them).
    /// </summary>
    public bool CanAdmit(SequenceGroup g)
    {
        var request = g.Request;
        int bs = kv.BlockSizeTokens;
        int sharedBlocks = request.PromptLength / bs;
        var leader = g.FirstLive();
        // Blocks of the prompt's full blocks that a hit would revive: counted with the leader, not again.
        int promptRevived = sharedBlocks > 0 ? kv.FindCachedPrefix(leader.Tokens[..(sharedBlocks * bs + 1)], request.CacheKey).NumRevivedBlocks : 0;
        long need = 0;
        foreach (var seq in g.Sequences)
        {
            if (seq.IsFinished)
                continue;
            var hit = kv.FindCachedPrefix(seq.Tokens, request.CacheKey);
            int hitBlocks = hit.NumCachedTokens / bs;
            if (ReferenceEquals(seq, leader))
                need += hit.NumRevivedBlocks + kv.BlocksFor(seq.NumTokens) - hitBlocks;
            else
                need += (hitBlocks > sharedBlocks ? hit.NumRevivedBlocks - promptRevived : 0)
                    + kv.BlocksFor(seq.NumTokens) - Math.Max(hitBlocks, sharedBlocks);
        }
        return need <= kv.GpuPool.NumFreeBlocks;
    }

    /// <summary>
    /// Gives each live sequence of a group (checked by <see cref="CanAdmit"/>) a table of its cached prefix.
    /// This only revives cached blocks (no new block is taken, so none is evicted): the sequences' hits over
    /// the prompt are all the same chain, all of the prompt's full blocks or the same part of them.
    /// </summary>
    public void Admit(SequenceGroup g)
    {
        var key = g.Request.CacheKey;
        foreach (var seq in g.Sequences)
        {
            if (seq.IsFinished)
                continue;
            // Looked up again: an earlier sequence's revivals changed the free list (the old hit is stale).
            var hit = kv.FindCachedPrefix(seq.Tokens, key);
            if (!kv.CanAllocate(hit, hit.NumCachedTokens))
                throw new InvalidOperationException($"CanAdmit admitted {g.Request} but {seq} cannot allocate its cached prefix.");
            seq.Table = kv.Allocate(seq.Tokens, hit, hit.NumCachedTokens, key);
            seq.NumComputedTokens = hit.NumCachedTokens;
        }
    }

    /// <summary>GPU blocks this step's share of the group's prefill within <paramref name="budget"/> tokens needs
    /// (as <see cref="KvCacheManager.CanAppend"/> counts them); changes nothing.</summary>
    public int BlocksNeeded(SequenceGroup g, int budget) => Walk(g, budget, commit: false);

    /// <summary>Plans this step's share (after <see cref="BlocksNeeded"/> fit): forks the prompt's blocks to the
    /// sequences waiting for them, appends and plans the chunks; returns the tokens used.</summary>
    public int Commit(SequenceGroup g, int budget) => Walk(g, budget, commit: true);

    /// <summary>Both <see cref="BlocksNeeded"/> and <see cref="Commit"/>: they must walk the same chunks.</summary>
    private int Walk(SequenceGroup g, int budget, bool commit)
    {
        int shared = g.Request.PromptLength / kv.BlockSizeTokens * kv.BlockSizeTokens;
        var leader = g.FirstLive();
        if (leader.NumComputedTokens < shared)
        {
            // The leader alone computes the prompt's full blocks first; the others share them in a later step,
            // once their K/V exists.
            int remaining = shared - leader.NumComputedTokens;
            int chunk = Math.Min(remaining, budget);
            if (chunk < remaining && !chunkedPrefill)
                return 0;
            if (!commit)
                return BlocksToAppend(leader.Table!, leader.Table!.NumTokens, chunk);
            Append(leader, chunk);
            return chunk;
        }

        if (commit)
            ShareLeaderPrompt(g, leader, shared);
        long rest = 0;
        foreach (var seq in g.Sequences)
        {
            if (!seq.IsFinished)
                rest += seq.NumTokens - Math.Max(seq.NumComputedTokens, shared);
        }
        bool finish = rest <= budget;
        int left = budget;
        int result = 0;
        foreach (var seq in g.Sequences)
        {
            if (left == 0)
                break;
            if (seq.IsFinished)
                continue;
            int computed = Math.Max(seq.NumComputedTokens, shared);   // a fork pending in the check counts as done
            int target = finish ? seq.NumTokens : seq.NumTokens - 1;
            int remaining = target - computed;
            int chunk = Math.Min(remaining, left);
            if (chunk < remaining && !chunkedPrefill)
                break;   // a sequence's history is computed whole (it fits one step: checked on admission)
            if (chunk == 0)
                continue;
            left -= chunk;
            if (commit)
            {
                Append(seq, chunk);
                result += chunk;
            }
            else
            {
                result += BlocksToAppend(seq.Table!, computed, chunk);
            }
        }
        if (commit && finish)
            g.Recomputing = false;
        return result;
    }

    /// <summary>The leader's table holds exactly the prompt's full blocks now (it stopped there): the sequences
    /// not there yet share them.</summary>
    private void ShareLeaderPrompt(SequenceGroup g, Sequence leader, int shared)
    {
        foreach (var seq in g.Sequences)
        {
            if (seq.IsFinished || seq.NumComputedTokens >= shared)
                continue;
            kv.Free(seq.Table!);
            seq.Table = kv.Fork(leader.Table!);
            seq.NumComputedTokens = shared;
        }
    }

    private void Append(Sequence seq, int chunk)
    {
        kv.Append(seq.Table!, seq.Tokens.Slice(seq.NumComputedTokens, chunk), plan.Copies);
        plan.AddChunk(seq, chunk);
    }

    /// <summary>
    /// Blocks that appending <paramref name="chunk"/> tokens to a table of <paramref name="numTokens"/> tokens
    /// takes: new blocks, plus a copy when the last block is partial and shared. A table shorter than
    /// <paramref name="numTokens"/> is about to be replaced by a fork of the leader's full prompt blocks.
    /// </summary>
    private int BlocksToAppend(BlockTable table, int numTokens, int chunk) =>
        table.NumTokens == numTokens ? kv.BlocksToAppend(table, chunk) : kv.BlocksFor(numTokens + chunk) - kv.BlocksFor(numTokens);
}
