using System.Runtime.CompilerServices;
using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

public sealed partial class Scheduler
{
    /// <summary>
    /// Applies the executor's outputs for the last plan: caches newly full blocks, appends sampled tokens (forking
    /// the n samples of a completed prompt, stepping beams), applies the token-level stop rules, frees finished sequences and
    /// records the incremental outputs in <see cref="Updates"/>.
    /// </summary>
    public void Postprocess(StepOutputs outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var plan = _plan;
        var entries = plan.Sequences;
        if (outputs.NumEntries != entries.Length)
            throw new InvalidOperationException($"the executor returned {outputs.NumEntries} entries for a plan of {entries.Length} sequences.");
        bool anyFinished = false;
        int i = 0;
        while (i < entries.Length)
        {
            var g = entries[i].Sequence.Request;
            int end = i + 1;
            while (end < entries.Length && ReferenceEquals(entries[end].Sequence.Request, g))
                end++;
            if (g.UseBeamSearch)
                BeamStep(g, entries, i, end, outputs);
            else
                SampleStep(g, entries, i, end, outputs);
            if (g.NumLive == 0 && g.Status != SequenceStatus.Finished)
            {
                g.Status = SequenceStatus.Finished;
                _reservedSeqs -= g.Width;
                _updates.Add(new SequenceUpdate(g, null, 0));
            }
            anyFinished |= g.Status == SequenceStatus.Finished;
            i = end;
        }
        if (anyFinished)
            RemoveFinishedFromRunning();
    }

    private void SampleStep(Request g, ReadOnlySpan<ScheduledSequence> entries, int from, int end, StepOutputs outputs)
    {
        for (int k = from; k < end; k++)
        {
            var e = entries[k];
            var seq = e.Sequence;
            CacheNewlyFullBlocks(e);
            if (e.NumSamples == 0)
                continue;
            var samples = outputs.SamplesOf(k);
            if (samples.Length != e.NumSamples)
                throw new InvalidOperationException($"the executor returned {samples.Length} samples for {seq}; the plan asked {e.NumSamples}.");
            if (e.NumSamples > 1)
            {
                // The prompt is done: fork it into n sequences sharing every block (the partial last block is
                // copied on the first write), then give sample i to sequence i.
                g.Forked = true;
                int first = g.SequenceList.Count;
                for (int s = 1; s < samples.Length; s++)
                {
                    var child = seq.CloneAs(_nextSequenceId++, s);
                    child.Table = _kv.Fork(seq.Table!);
                    g.SequenceList.Add(child);
                    g.NumLive++;
                }
                AppendToken(seq, samples[0], outputs);
                for (int s = 1; s < samples.Length; s++)
                    AppendToken(g.SequenceList[first + s - 1], samples[s], outputs);
            }
            else
            {
                AppendToken(seq, samples[0], outputs);
            }
        }
    }

    private void RemoveFinishedFromRunning()
    {
        int kept = 0;
        for (int i = 0; i < _running.Count; i++)
        {
            var r = _running[i];
            if (r.Status != SequenceStatus.Finished)
                _running[kept++] = r;
        }
        _running.RemoveRange(kept, _running.Count - kept);
    }

    /// <summary>
    /// Offers the sequence's full blocks to the prefix cache when this step completed one. The manager caches
    /// every full block not yet offered, so calling it only at block boundaries loses nothing (blocks it forgot
    /// on a swap-in are offered at the next boundary) and spares the call on most decode steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CacheNewlyFullBlocks(in ScheduledSequence e)
    {
        if (e.StartPosition % _kv.BlockSizeTokens + e.NumTokens >= _kv.BlockSizeTokens)
            _kv.CacheFullBlocks(e.Table);
    }

    /// <summary>Appends a sampled token and applies the token-level stop rules (text is the output processor's).</summary>
    private void AppendToken(Sequence seq, SampledToken sample, StepOutputs outputs)
    {
        var g = seq.Request;
        int token = sample.TokenId;
        seq.Append(token);
        seq.CumulativeLogProb += sample.LogProb;
        if (g.NumLogprobs >= 0)
            seq.AddLogprobs(outputs.TopLogprobsOf(sample).ToArray());
        _updates.Add(new SequenceUpdate(g, seq, 1));
        if (seq.Constraint is { Outcome: not FinishReason.None } constraint)
        {
            // The structured output is complete (Stop), or refused the token (Abort, naming it).
            FinishSequence(seq, constraint.Outcome, constraint.Violation);
            return;
        }

        var reason = StopConditions.CheckToken(g.Stops, token, seq.NumGenerated, _options.EosTokenId, out int stopId);
        if (reason != FinishReason.None)
            FinishSequence(seq, reason, stopId >= 0 ? stopId.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
    }
}
