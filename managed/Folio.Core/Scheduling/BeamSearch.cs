using Folio.Core.KvCache;
using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

/// <summary>
/// One beam-search step for a request whose live beams were all computed this step: rank every candidate
/// extension by cumulative log-probability; an end-of-sequence (or stop id) candidate within the top
/// beam_width ranks becomes a finished hypothesis; the best beam_width other candidates become the next
/// beams. A beam with several children forks (shared blocks, copy-on-write), one with none is freed. Done at
/// max_tokens, or when beam_width hypotheses are finished and the best live beam cannot beat the worst of
/// them. Scores are cumulative log-probability / generated length ^ length_penalty (Hugging Face's rule).
/// </summary>
internal sealed class BeamSearch(KvCacheManager kv, int eosTokenId)
{
    private BeamCandidate[] _candidates = new BeamCandidate[64];
    private readonly List<BeamCandidate> _chosen = [];
    private readonly List<Sequence> _nextBeams = [];

    /// <summary>Steps the beams of <paramref name="g"/>, plan entries <paramref name="from"/> .. <paramref name="end"/>;
    /// new sequences take their ids from <paramref name="ids"/>.</summary>
    public void Step(SequenceGroup g, ReadOnlySpan<ScheduledSequence> entries, int from, int end, StepOutputs outputs, SequenceIds ids)
    {
        if (entries[from].NumBeamCandidates == 0)
            return;   // a prefill chunk that does not reach the end of the beam's tokens
        if (end - from != g.NumLive)
            throw new InvalidOperationException($"{g.Request}: {end - from} of its {g.NumLive} beams were scheduled; beams step together.");

        var sorted = RankCandidates(entries, from, end, outputs);
        var request = g.Request;
        var p = request.Params;
        int width = p.BeamWidth;
        int generated = entries[from].Sequence.NumGenerated + 1;   // beams step together: same length
        bool stopsAllowed = StopConditions.StopsAllowed(p, generated);
        _chosen.Clear();
        for (int c = 0; c < sorted.Length && _chosen.Count < width; c++)
        {
            var cand = sorted[c];
            bool stop = stopsAllowed && request.Stops.IsStopToken(cand.TokenId, eosTokenId);
            if (!stop)
            {
                _chosen.Add(cand);
                continue;
            }
            if (c < width)
            {
                var hyp = entries[cand.ParentEntry].Sequence.CloneAs(ids.Next(), 0);
                hyp.Append(cand.TokenId);
                hyp.CumulativeLogProb = cand.CumulativeLogProb;
                AddHypothesis(g, hyp, FinishReason.Stop, cand.TokenId == eosTokenId ? null : cand.TokenId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        NextBeams(g, entries, from, end, ids);

        bool done = generated >= p.MaxTokens || g.NumLive == 0;
        if (!done && g.FinishedBeams.Count >= width)
        {
            double bestLive = g.Sequences[0].CumulativeLogProb / LengthFactor(generated, p.LengthPenalty);
            done = bestLive <= g.FinishedBeams[^1].BeamScore;
        }
        if (done)
            Finish(g, generated >= p.MaxTokens ? FinishReason.Length : FinishReason.Stop);
    }

    /// <summary>Every candidate of every beam, best cumulative log-probability first.</summary>
    private ReadOnlySpan<BeamCandidate> RankCandidates(ReadOnlySpan<ScheduledSequence> entries, int from, int end, StepOutputs outputs)
    {
        int n = 0;
        for (int k = from; k < end; k++)
        {
            var parent = entries[k].Sequence;
            var cands = outputs.SamplesOf(k);
            if (cands.Length == 0)
                throw new InvalidOperationException($"the executor returned no beam candidates for {parent}.");
            if (n + cands.Length > _candidates.Length)
                Array.Resize(ref _candidates, Math.Max(n + cands.Length, _candidates.Length * 2));
            for (int r = 0; r < cands.Length; r++)
                _candidates[n++] = new BeamCandidate(parent.CumulativeLogProb + cands[r].LogProb, k, r, cands[r].TokenId, cands[r].LogProb);
        }
        var sorted = _candidates.AsSpan(0, n);
        sorted.Sort();
        return sorted;
    }

    /// <summary>The chosen candidates become the live beams: a parent's first child reuses the parent, further
    /// children fork it (before any append); parents with no child are freed (they are not outputs).</summary>
    private void NextBeams(SequenceGroup g, ReadOnlySpan<ScheduledSequence> entries, int from, int end, SequenceIds ids)
    {
        _nextBeams.Clear();
        for (int c = 0; c < _chosen.Count; c++)
        {
            var parent = entries[_chosen[c].ParentEntry].Sequence;
            _nextBeams.Add(_nextBeams.Contains(parent) ? g.Fork(parent, ids.Next(), c, kv) : parent);
        }
        for (int k = from; k < end; k++)
        {
            var parent = entries[k].Sequence;
            if (!_nextBeams.Contains(parent))
            {
                kv.Free(parent.Table!);
                parent.Table = null;
                parent.Status = SequenceStatus.Finished;
            }
        }
        g.Sequences.Clear();
        for (int c = 0; c < _nextBeams.Count; c++)
        {
            var beam = _nextBeams[c];
            beam.Append(_chosen[c].TokenId);
            beam.CumulativeLogProb = _chosen[c].CumulativeLogProb;
            g.Sequences.Add(beam);
        }
        g.NumLive = _nextBeams.Count;
        g.Forked = true;
    }

    /// <summary>Ends the search: the live beams become hypotheses too, and the best beam_width are the outputs.</summary>
    private void Finish(SequenceGroup g, FinishReason liveReason)
    {
        foreach (var beam in g.Sequences)
        {
            kv.Free(beam.Table!);
            beam.Table = null;
            AddHypothesis(g, beam, liveReason, null);
        }
        g.Sequences.Clear();
        g.Sequences.AddRange(g.FinishedBeams);
        g.NumLive = 0;
    }

    /// <summary>Inserts a finished hypothesis into the request's best-first list, keeping beam_width of them.</summary>
    private static void AddHypothesis(SequenceGroup g, Sequence hyp, FinishReason reason, string? stopReason)
    {
        var p = g.Request.Params;
        hyp.Status = SequenceStatus.Finished;
        hyp.FinishReason = reason;
        hyp.StopReason = stopReason;
        hyp.BeamScore = hyp.CumulativeLogProb / LengthFactor(hyp.NumGenerated, p.LengthPenalty);
        var list = g.FinishedBeams;
        int at = list.Count;
        while (at > 0 && list[at - 1].BeamScore < hyp.BeamScore)
            at--;
        if (at >= p.BeamWidth)
            return;
        list.Insert(at, hyp);
        if (list.Count > p.BeamWidth)
            list.RemoveAt(list.Count - 1);
    }

    private static double LengthFactor(int generated, float lengthPenalty) => Math.Pow(Math.Max(1, generated), lengthPenalty);
}
