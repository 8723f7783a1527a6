using System.Runtime.CompilerServices;
using Folio.Core.KvCache;
using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

/// <summary>
/// The sequences generating for one request: one, the n samples of a forked prompt, or the live beams of a beam
/// search (with the finished hypotheses, best first). It keeps the group's books — how many are live, whether
/// the prompt was forked, whether a recompute is under way — and moves its sequences between states together.
/// The scheduler decides when; the group knows how.
/// </summary>
internal sealed class SequenceGroup
{
    public SequenceGroup(Request request, SamplingParams p)
    {
        Request = request;
        RequestId = request.Id;
        Stops = new StopRules(p);
        Width = p.Width;
        N = p.N;
        BeamWidth = p.BeamWidth;
        NumLogprobs = p.Logprobs ?? -1;
        HasStopStrings = p.Stop.Count > 0;
    }

    public Request Request { get; }

    // Copies of what the step reads of the request and its parameters, every step for every sequence: the group
    // is in cache then (the scheduler walks groups), the request and its parameters object usually are not.
    public readonly long RequestId;
    public readonly StopRules Stops;
    public readonly int Width;
    public readonly int N;
    public readonly int BeamWidth;
    public readonly int NumLogprobs;
    public readonly bool HasStopStrings;
    public bool UseBeamSearch => BeamWidth > 0;

    /// <summary>Live sequences first, then finished ones, in creation order. For beam search: the live beams.</summary>
    public List<Sequence> Sequences { get; } = new(1);

    /// <summary>The first sequence created (hot path: most requests have just this one).</summary>
    public Sequence? First { get; set; }

    /// <summary>Finished beams, best first (beam search only).</summary>
    public List<Sequence> FinishedBeams { get; } = [];

    /// <summary>Sequences not yet finished (they hold the request's blocks).</summary>
    public int NumLive { get; set; }

    /// <summary>True once the prompt was sampled (n children or beams exist): a recompute then restores each sequence separately.</summary>
    public bool Forked { get; set; }

    /// <summary>
    /// True from a group's recompute preemption until every live sequence has its history recomputed and the
    /// group samples again (the sequences prefill separately, then step together).
    /// </summary>
    public bool Recomputing { get; set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Sequence FirstLive()
    {
        // Most requests hold one sequence for life: no walk through the list (two fewer cache misses per request).
        var first = First;
        if (first is not null && !first.IsFinished)
            return first;
        foreach (var seq in Sequences)
        {
            if (!seq.IsFinished)
                return seq;
        }
        throw new InvalidOperationException($"{Request} has no live sequence.");
    }

    /// <summary>The live sequences' tables, in <paramref name="scratch"/> (grown when too small).</summary>
    public ReadOnlySpan<BlockTable> LiveTables(ref BlockTable[] scratch)
    {
        if (scratch.Length < NumLive)
            Array.Resize(ref scratch, Math.Max(NumLive, scratch.Length * 2));
        int n = 0;
        foreach (var seq in Sequences)
        {
            if (!seq.IsFinished)
                scratch[n++] = seq.Table!;
        }
        return scratch.AsSpan(0, n);
    }

    /// <summary>Moves the request and its live sequences to <paramref name="status"/>.</summary>
    public void SetStatus(SequenceStatus status)
    {
        Request.Status = status;
        foreach (var seq in Sequences)
        {
            if (!seq.IsFinished)
                seq.Status = status;
        }
    }

    /// <summary>
    /// Recompute preemption: drops every live sequence's K/V and keeps its tokens (and a beam's cumulative
    /// log-probability; finished beams stay as they are). A forked group then recomputes sequence by sequence.
    /// </summary>
    public void DropKv(KvCacheManager kv)
    {
        foreach (var seq in Sequences)
        {
            if (seq.IsFinished)
                continue;
            kv.Free(seq.Table!);
            seq.Table = null;
            seq.NumComputedTokens = 0;
        }
        if (NumLive > 1)
            Recomputing = true;
    }

    /// <summary>A new live sequence forked from <paramref name="parent"/>: the same tokens and outputs, its blocks
    /// shared (copy-on-write) through a fork of the parent's table.</summary>
    public Sequence Fork(Sequence parent, long id, int index, KvCacheManager kv)
    {
        var child = parent.CloneAs(id, index);
        child.Table = kv.Fork(parent.Table!);
        return child;
    }

    /// <summary>Ends a live sequence: reason, stop reason, its blocks freed now.</summary>
    public void Finish(Sequence seq, FinishReason reason, string? stopReason, KvCacheManager kv)
    {
        seq.Status = SequenceStatus.Finished;
        seq.FinishReason = reason;
        seq.StopReason = stopReason;
        if (seq.Table is not null)
        {
            kv.Free(seq.Table);
            seq.Table = null;
        }
        NumLive--;
    }

    /// <summary>
    /// Checks the group's books in a queue of <paramref name="status"/>: each live sequence holds a table where the
    /// status says (GPU with every allocated slot computed, CPU, or none), finished ones hold none, the live count
    /// is right. Returns the tables it holds; throws <see cref="InvalidOperationException"/> naming the first violation.
    /// </summary>
    public int Check(SequenceStatus status)
    {
        if (Request.Status != status)
            throw new InvalidOperationException($"{Request} sits in the {status} queue.");
        int live = 0;
        bool allDecoding = true;
        foreach (var s in Sequences)
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
            allDecoding &= s.NumTokens - s.NumComputedTokens == 1;
        }
        if (live != NumLive || live == 0)
            throw new InvalidOperationException($"{Request} counts {NumLive} live sequences, has {live}.");
        if (live > 1 && !Recomputing && !allDecoding)
            throw new InvalidOperationException($"{Request} runs {live} sequences that are not all in decode, yet is not recomputing.");
        return status == SequenceStatus.Waiting ? 0 : live;
    }
}
