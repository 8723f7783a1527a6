using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

public sealed partial class Scheduler
{
    /// <summary>
    /// Applies the executor's outputs for the last plan: caches newly full blocks, appends sampled tokens (forking
    /// the n samples of a completed prompt, stepping beams), applies the stop rules, frees finished sequences and
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
            if (g.Params.UseBeamSearch)
                BeamStep(g, entries, i, end, outputs);
            else
                SampleStep(g, entries, i, end, outputs);
            if (g.NumLive == 0 && g.Status != SequenceStatus.Finished)
            {
                g.Status = SequenceStatus.Finished;
                _reservedSeqs -= g.Params.Width;
                _updates.Add(new SequenceUpdate(g, null, 0));
            }
            anyFinished |= g.Status == SequenceStatus.Finished;
            i = end;
        }
        if (anyFinished)
            _running.RemoveAll(static r => r.Status == SequenceStatus.Finished);
    }

    private void SampleStep(Request g, ReadOnlySpan<ScheduledSequence> entries, int from, int end, StepOutputs outputs)
    {
        for (int k = from; k < end; k++)
        {
            var e = entries[k];
            var seq = e.Sequence;
            _kv.CacheFullBlocks(seq.Table!);
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

    private void AppendToken(Sequence seq, SampledToken sample, StepOutputs outputs)
    {
        var g = seq.Request;
        var p = g.Params;
        int token = sample.TokenId;
        seq.Append(token);
        seq.CumulativeLogProb += sample.LogProb;
        if (p.Logprobs is not null)
            seq.AddLogprobs(outputs.TopLogprobsOf(sample).ToArray());
        _updates.Add(new SequenceUpdate(g, seq, 1));

        int generated = seq.NumGenerated;
        var reason = StopConditions.CheckToken(p, token, generated, _options.EosTokenId, out int stopId);
        string? stopReason = stopId >= 0 ? stopId.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        if (_decoder is not null && !(token == _options.EosTokenId && reason == FinishReason.Stop && stopId < 0))
        {
            var text = seq.Text;
            int before = text.Length;
            text.Append(_decoder.DecodeLast(seq.GeneratedTokens));
            if (reason != FinishReason.Stop && p.Stop.Count > 0 && StopConditions.StopsAllowed(p, generated))
            {
                int at = StopConditions.FindStopString(p, text, before, out string? matched);
                if (at >= 0)
                {
                    text.Length = at;   // like vLLM: the stop string and anything after it leave the output text
                    reason = FinishReason.Stop;
                    stopReason = matched;
                }
            }
        }
        if (reason != FinishReason.None)
            FinishSequence(seq, reason, stopReason);
    }
}
