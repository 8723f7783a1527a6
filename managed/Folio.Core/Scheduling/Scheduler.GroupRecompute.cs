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
public sealed partial class Scheduler
{
    /// <summary>
    /// Whether every live sequence of a waiting group fits the GPU pool over its whole history, after its
    /// prefix-cache hit, counting the prompt's full blocks once (the sequences share them).
    /// </summary>
    private bool CanAdmitGroup(Request g)
    {
        int bs = _kv.BlockSizeTokens;
        int sharedBlocks = g.PromptLength / bs;
        var leader = FirstLive(g);
        // Blocks of the prompt's full blocks that a hit would revive: counted with the leader, not again.
        int promptRevived = sharedBlocks > 0 ? _kv.FindCachedPrefix(leader.Tokens[..(sharedBlocks * bs + 1)], g.CacheKey).NumRevivedBlocks : 0;
        long need = 0;
        var list = g.SequenceList;
        for (int s = 0; s < list.Count; s++)
        {
            var seq = list[s];
            if (seq.IsFinished)
                continue;
            var hit = _kv.FindCachedPrefix(seq.Tokens, g.CacheKey);
            int hitBlocks = hit.NumCachedTokens / bs;
            if (ReferenceEquals(seq, leader))
                need += hit.NumRevivedBlocks + _kv.BlocksFor(seq.NumTokens) - hitBlocks;
            else
                need += (hitBlocks > sharedBlocks ? hit.NumRevivedBlocks - promptRevived : 0)
                    + _kv.BlocksFor(seq.NumTokens) - Math.Max(hitBlocks, sharedBlocks);
        }
        return need <= _kv.GpuPool.NumFreeBlocks;
    }

    /// <summary>
    /// Gives each live sequence of a group (checked by <see cref="CanAdmitGroup"/>) a table of its cached prefix.
    /// This only revives cached blocks (no new block is taken, so none is evicted): the sequences' hits over
    /// the prompt are all the same chain, all of the prompt's full blocks or the same part of them.
    /// </summary>
    private void AdmitGroup(Request g)
    {
        var list = g.SequenceList;
        for (int s = 0; s < list.Count; s++)
        {
            var seq = list[s];
            if (seq.IsFinished)
                continue;
            // Looked up again: an earlier sequence's revivals changed the free list (the old hit is stale).
            var hit = _kv.FindCachedPrefix(seq.Tokens, g.CacheKey);
            if (!_kv.CanAllocate(hit, hit.NumCachedTokens))
                throw new InvalidOperationException($"CanAdmitGroup admitted {g} but {seq} cannot allocate its cached prefix.");
            seq.Table = _kv.Allocate(seq.Tokens, hit, hit.NumCachedTokens, g.CacheKey);
            seq.NumComputedTokens = hit.NumCachedTokens;
        }
    }

    /// <summary>
    /// This step's share of a recomputing group's prefill within <paramref name="budget"/> tokens (&gt; 0). With
    /// <paramref name="commit"/> false, returns the GPU blocks it needs (as <see cref="KvCacheManager.CanAppend"/>
    /// counts them) and changes nothing; with true (after that check), forks the prompt's blocks to the sequences
    /// waiting for them, appends and plans the chunks, and returns the tokens used. Both walk the same chunks.
    /// </summary>
    private int GroupRecomputeStep(Request g, int budget, bool commit)
    {
        int bs = _kv.BlockSizeTokens;
        int shared = g.PromptLength / bs * bs;
        var leader = FirstLive(g);
        if (leader.NumComputedTokens < shared)
        {
            // The leader alone computes the prompt's full blocks first; the others share them in a later step,
            // once their K/V exists.
            int remaining = shared - leader.NumComputedTokens;
            int chunk = Math.Min(remaining, budget);
            if (chunk < remaining && !_options.EnableChunkedPrefill)
                return 0;
            if (!commit)
                return BlocksToAppend(leader.Table!, leader.Table!.NumTokens, chunk);
            Commit(g, leader, chunk);
            return chunk;
        }

        var list = g.SequenceList;
        if (commit)
        {
            for (int s = 0; s < list.Count; s++)
            {
                var seq = list[s];
                if (seq.IsFinished || seq.NumComputedTokens >= shared)
                    continue;
                // The leader's table holds exactly the prompt's full blocks now (it stopped there): share them.
                _kv.Free(seq.Table!);
                seq.Table = _kv.Fork(leader.Table!);
                seq.NumComputedTokens = shared;
            }
        }
        long rest = 0;
        for (int s = 0; s < list.Count; s++)
        {
            if (!list[s].IsFinished)
                rest += list[s].NumTokens - Math.Max(list[s].NumComputedTokens, shared);
        }
        bool finish = rest <= budget;
        int left = budget;
        int result = 0;
        for (int s = 0; s < list.Count && left > 0; s++)
        {
            var seq = list[s];
            if (seq.IsFinished)
                continue;
            int computed = Math.Max(seq.NumComputedTokens, shared);   // a fork pending in the check counts as done
            int target = finish ? seq.NumTokens : seq.NumTokens - 1;
            int remaining = target - computed;
            int chunk = Math.Min(remaining, left);
            if (chunk < remaining && !_options.EnableChunkedPrefill)
                break;   // a sequence's history is computed whole (it fits one step: checked by Add)
            if (chunk == 0)
                continue;
            left -= chunk;
            if (commit)
            {
                Commit(g, seq, chunk);
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

    /// <summary>
    /// Blocks that appending <paramref name="chunk"/> tokens to a table of <paramref name="numTokens"/> tokens
    /// takes: new blocks, plus a copy when the last block is partial and shared. A table shorter than
    /// <paramref name="numTokens"/> is about to be replaced by a fork of the leader's full prompt blocks.
    /// </summary>
    private int BlocksToAppend(BlockTable table, int numTokens, int chunk) =>
        table.NumTokens == numTokens ? _kv.BlocksToAppend(table, chunk) : _kv.BlocksFor(numTokens + chunk) - _kv.BlocksFor(numTokens);
}
