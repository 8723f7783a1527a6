using System.Runtime.CompilerServices;
using Folio.Core.KvCache;
using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

/// <summary>
/// Applies a step's samples to its sequences: offers newly full blocks to the prefix cache, appends each sampled
/// token (forking the n samples of a completed prompt; <see cref="BeamSearch"/> steps beams), applies the
/// token-level stop rules (EOS, stop token ids, min/max tokens; text and stop strings are the output processor's),
/// appends the tokens a structured output forces after a sampled one (fast-forward), frees finished sequences'
/// blocks and reports each sequence's new tokens, and each request's end, to a <see cref="ISequenceUpdateSink"/> as
/// it goes.
/// </summary>
internal sealed class SampleApplier(KvCacheManager kv, int eosTokenId, SequenceIds ids)
{
    private readonly BeamSearch _beams = new(kv, eosTokenId);

    /// <summary>Applies <paramref name="outputs"/> to <paramref name="plan"/>'s sequences; returns the summed width
    /// (reserved sequences) of the requests that finished, 0 when none did, and lists their groups in
    /// <paramref name="finished"/> (cleared first) in the order of the plan's rows.</summary>
    public int Apply(StepPlan plan, StepOutputs outputs, ISequenceUpdateSink sink, List<SequenceGroup> finished)
    {
        finished.Clear();
        var entries = plan.Sequences;
        if (outputs.NumEntries != entries.Length)
            throw new InvalidOperationException($"the executor returned {outputs.NumEntries} entries for a plan of {entries.Length} sequences.");
        int finishedWidth = 0;
        // The commonest update (one token, not finished) goes to a sink that takes runs as one call per run of
        // adjacent rows, not one interface call per sequence; runStart is the pending run's first row, or -1.
        bool rowRuns = sink.TakesRowRuns;
        int runStart = -1;
        int i = 0;
        while (i < entries.Length)
        {
            ref readonly var first = ref entries[i];
            var seq = first.Sequence;
            if (seq.Alone && first.NumSamples == 1)
            {
                // The commonest row: a request's only sequence takes one sample. It reads the sequence (and its
                // copies of the request's parameters), not the group: one cache miss fewer per row.
                CacheNewlyFullBlocks(first);
                var samples = outputs.SamplesOf(i);
                if (samples.Length != 1)
                    throw WrongSampleCount(first, samples.Length);
                int added = AppendSample(seq, samples[0], outputs);
                if (rowRuns && added == 1 && !seq.IsFinished)
                {
                    if (runStart < 0)
                        runStart = i;
                    i++;
                    continue;
                }
                if (runStart >= 0)
                    runStart = EndRun(sink, runStart, i);
                sink.TokensAdded(seq.Request, seq, added, i);
                if (seq.IsFinished)   // by a token rule, or by a stop string in the sink
                    finishedWidth += EndIfFinished(seq.Group, finished, sink);
                i++;
                continue;
            }
            if (runStart >= 0)
                runStart = EndRun(sink, runStart, i);
            var g = seq.Group;
            int end = i + 1;
            // A group's rows are adjacent; one live sequence has one row, so no look-ahead.
            if (g.NumLive > 1)
            {
                while (end < entries.Length && ReferenceEquals(entries[end].Sequence.Group, g))
                    end++;
            }
            for (int k = i; k < end; k++)
                CacheNewlyFullBlocks(entries[k]);
            if (g.UseBeamSearch)
                _beams.Step(g, entries, i, end, outputs, ids);
            else
                ApplySamples(g, entries, i, end, outputs, sink);
            finishedWidth += EndIfFinished(g, finished, sink);
            i = end;
        }
        if (runStart >= 0)
            EndRun(sink, runStart, entries.Length);
        return finishedWidth;
    }

    /// <summary>Reports the pending run of rows [<paramref name="start"/>, <paramref name="end"/>); returns -1 (no run).</summary>
    private static int EndRun(ISequenceUpdateSink sink, int start, int end)
    {
        sink.RowsAdded(start, end - start);
        return -1;
    }

    /// <summary>Ends the request of a group left without live sequences (listing it in <paramref name="finished"/>);
    /// returns its width, or 0. A sink that ended the request by stop string has finished it and returned its
    /// width already.</summary>
    private static int EndIfFinished(SequenceGroup g, List<SequenceGroup> finished, ISequenceUpdateSink sink)
    {
        if (g.NumLive != 0 || g.Request.Status == SequenceStatus.Finished)
            return 0;
        var request = g.Request;
        request.Status = SequenceStatus.Finished;
        finished.Add(g);
        sink.RequestFinished(request);
        return g.Width;
    }

    private void ApplySamples(SequenceGroup g, ReadOnlySpan<ScheduledSequence> entries, int from, int end, StepOutputs outputs,
        ISequenceUpdateSink sink)
    {
        for (int k = from; k < end; k++)
        {
            var e = entries[k];
            if (e.NumSamples == 0)
                continue;
            var seq = e.Sequence;
            var samples = outputs.SamplesOf(k);
            if (samples.Length != e.NumSamples)
                throw WrongSampleCount(e, samples.Length);
            if (e.NumSamples == 1)
            {
                AppendToken(seq, k, samples[0], outputs, sink);
                continue;
            }
            // The prompt is done: fork it into n sequences sharing every block (the partial last block is
            // copied on the first write), then give sample i to sequence i.
            g.Forked = true;
            int first = g.Sequences.Count;
            for (int s = 1; s < samples.Length; s++)
            {
                g.Sequences.Add(g.Fork(seq, ids.Next(), s, kv));
                g.NumLive++;
            }
            AppendToken(seq, k, samples[0], outputs, sink);
            for (int s = 1; s < samples.Length; s++)
                AppendToken(g.Sequences[first + s - 1], -1, samples[s], outputs, sink);   // a new fork: no row of its own
        }
    }

    private static InvalidOperationException WrongSampleCount(in ScheduledSequence e, int returned)
        => new($"the executor returned {returned} samples for {e.Sequence}; the plan asked {e.NumSamples}.");

    /// <summary>
    /// Offers the sequence's full blocks to the prefix cache when this step completed one. The manager caches
    /// every full block not yet offered, so calling it only at block boundaries loses nothing (blocks it forgot
    /// on a swap-in are offered at the next boundary) and spares the call on most decode steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CacheNewlyFullBlocks(in ScheduledSequence e)
    {
        int inBlock = _blockMask >= 0 ? e.StartPosition & _blockMask : e.StartPosition % _blockSize;
        if (inBlock + e.NumTokens >= _blockSize)
            kv.CacheFullBlocks(e.Table);
    }

    // The block size, and a mask when it is a power of two (the usual case: no division per sequence).
    private readonly int _blockSize = kv.BlockSizeTokens;
    private readonly int _blockMask = System.Numerics.BitOperations.IsPow2(kv.BlockSizeTokens) ? kv.BlockSizeTokens - 1 : -1;

    /// <summary>Appends a sampled token (and the tokens a structured output forces after it), applies the token-level
    /// stop rules, then reports the new tokens to the sink (inlined; the rare paths are calls). It reads the request's parameters from the sequence's copies, not from the group. <paramref name="row"/>
    /// is the sequence's row in the plan (-1 for a sequence forked in this step).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AppendToken(Sequence seq, int row, SampledToken sample, StepOutputs outputs, ISequenceUpdateSink sink)
    {
        int added = AppendSample(seq, sample, outputs);
        // One report for all of them: the output processor reads the sequence's last `added` tokens.
        sink.TokensAdded(seq.Request, seq, added, row);
    }

    /// <summary>Appends a sampled token and the tokens a structured output forces after it, applying the token-level
    /// stop rules; returns how many tokens were appended (the caller reports them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int AppendSample(Sequence seq, SampledToken sample, StepOutputs outputs)
    {
        int token = sample.TokenId;
        seq.Append(token);
        seq.CumulativeLogProb += sample.LogProb;
        if (seq.NumLogprobs >= 0)
            seq.AddLogprobs(outputs.TopLogprobsOf(sample).ToArray());
        int added = 1;
        if (!Finished(seq, token) && seq.Constraint is { } constraint && CanFastForward(seq))
            added += AppendForced(seq, constraint);
        return added;
    }

    /// <summary>
    /// Fast-forward where the step can take it: a single sequence (n = 1, no beams: a group of several steps them
    /// one token each) without logprobs (a forced token has no distribution to report).
    /// </summary>
    private static bool CanFastForward(Sequence seq) => seq.Alone && seq.NumLogprobs < 0;

    /// <summary>
    /// Appends the tokens the structured output forces now, without sampling, up to max_tokens, stopping where
    /// one of them ends the sequence; returns how many. Their K/V are computed in the next step as one chunk (the
    /// scheduler plans any uncomputed tail of a running sequence so, as it does a prefill).
    /// </summary>
    private int AppendForced(Sequence seq, SequenceConstraint constraint)
    {
        int room = Math.Min(_forced.Length, seq.Stops.MaxTokens - seq.NumGenerated);
        if (room <= 0)
            return 0;
        int n = constraint.ForcedTokens(_forced.AsSpan(0, room));
        for (int i = 0; i < n; i++)
        {
            seq.Append(_forced[i]);
            ForcedTokens++;
            if (Finished(seq, _forced[i]))
                return i + 1;
        }
        return n;
    }

    /// <summary>Tokens appended by fast-forward since the scheduler was created.</summary>
    public long ForcedTokens { get; private set; }

    private readonly int[] _forced = new int[MaxForcedTokens];

    /// <summary>Forced tokens appended after one sampled token at most (the rest of a longer run is sampled next step, then fast-forward resumes).</summary>
    public const int MaxForcedTokens = 64;

    /// <summary>Applies the token-level stop rules to a token just appended; true when they ended the sequence
    /// (inlined: once per token; finishing is the rare path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Finished(Sequence seq, int token)
    {
        if (seq.Constraint is { Outcome: not FinishReason.None } constraint)
        {
            // The structured output is complete (Stop), or refused the token (Abort, naming it).
            seq.Group.Finish(seq, constraint.Outcome, constraint.Violation, kv);
            return true;
        }
        var reason = StopConditions.CheckToken(seq.Stops, token, seq.NumGenerated, eosTokenId, out int stopId);
        if (reason == FinishReason.None)
            return false;
        FinishByToken(seq, reason, stopId);
        return true;
    }

    private void FinishByToken(Sequence seq, FinishReason reason, int stopId)
        => seq.Group.Finish(seq, reason, stopId >= 0 ? stopId.ToString(System.Globalization.CultureInfo.InvariantCulture) : null, kv);
}
