using Folio.Core.Sampling;

namespace Folio.Core.Scheduling;

public sealed partial class Scheduler
{
    private BeamCandidate[] _candidates = new BeamCandidate[64];
    private readonly List<BeamCandidate> _chosen = [];
    private readonly List<Sequence> _nextBeams = [];

    /// <summary>
    /// One beam-search step for a request whose live beams were all computed this step: rank every candidate
    /// extension by cumulative log-probability; an end-of-sequence (or stop id) candidate within the top
    /// beam_width ranks becomes a finished hypothesis; the best beam_width other candidates become the next
    /// beams. A beam with several children forks (shared blocks, copy-on-write), one with none is freed. Done at
    /// max_tokens, or when beam_width hypotheses are finished and the best live beam cannot beat the worst of
    /// them. Scores are cumulative log-probability / generated length ^ length_penalty.
    /// </summary>
    private void BeamStep(Request g, ReadOnlySpan<ScheduledSequence> entries, int from, int end, StepOutputs outputs)
    {
        for (int k = from; k < end; k++)
            _kv.CacheFullBlocks(entries[k].Sequence.Table!);
        if (entries[from].NumBeamCandidates == 0)
            return;   // a prefill chunk that does not reach the end of the beam's tokens
        if (end - from != g.NumLive)
            throw new InvalidOperationException($"{g}: {end - from} of its {g.NumLive} beams were scheduled; beams step together.");

        var p = g.Params;
        int width = p.BeamWidth;
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

        int generated = entries[from].Sequence.NumGenerated + 1;   // beams step together: same length
        bool stopsAllowed = StopConditions.StopsAllowed(p, generated);
        _chosen.Clear();
        for (int c = 0; c < sorted.Length && _chosen.Count < width; c++)
        {
            var cand = sorted[c];
            bool stop = stopsAllowed && IsStopToken(p, cand.TokenId);
            if (!stop)
            {
                _chosen.Add(cand);
                continue;
            }
            if (c < width)
            {
                var hyp = entries[cand.ParentEntry].Sequence.CloneAs(_nextSequenceId++, 0);
                hyp.Append(cand.TokenId);
                hyp.CumulativeLogProb = cand.CumulativeLogProb;
                AddHypothesis(g, hyp, FinishReason.Stop, cand.TokenId == _options.EosTokenId ? null : cand.TokenId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        // Next beams: a parent's first child reuses the parent, further children fork it (before any append).
        _nextBeams.Clear();
        for (int c = 0; c < _chosen.Count; c++)
        {
            var parent = entries[_chosen[c].ParentEntry].Sequence;
            bool used = false;
            for (int b = 0; b < _nextBeams.Count; b++)
                used |= ReferenceEquals(_nextBeams[b], parent);
            if (!used)
            {
                _nextBeams.Add(parent);
            }
            else
            {
                var child = parent.CloneAs(_nextSequenceId++, c);
                child.Table = _kv.Fork(parent.Table!);
                _nextBeams.Add(child);
            }
        }
        // Parents with no child are dropped (their blocks freed); they are not outputs.
        for (int k = from; k < end; k++)
        {
            var parent = entries[k].Sequence;
            if (!_nextBeams.Contains(parent))
            {
                _kv.Free(parent.Table!);
                parent.Table = null;
                parent.Status = SequenceStatus.Finished;
            }
        }
        g.SequenceList.Clear();
        for (int c = 0; c < _nextBeams.Count; c++)
        {
            var beam = _nextBeams[c];
            beam.Append(_chosen[c].TokenId);
            beam.CumulativeLogProb = _chosen[c].CumulativeLogProb;
            g.SequenceList.Add(beam);
        }
        g.NumLive = _nextBeams.Count;
        g.Forked = true;

        bool done = generated >= p.MaxTokens || g.NumLive == 0;
        if (!done && g.BeamList.Count >= width)
        {
            double bestLive = g.SequenceList[0].CumulativeLogProb / LengthFactor(generated, p.LengthPenalty);
            done = bestLive <= g.BeamList[^1].BeamScore;
        }
        if (!done)
            return;
        foreach (var beam in g.SequenceList)
        {
            _kv.Free(beam.Table!);
            beam.Table = null;
            AddHypothesis(g, beam, generated >= p.MaxTokens ? FinishReason.Length : FinishReason.Stop, null);
        }
        g.SequenceList.Clear();
        g.SequenceList.AddRange(g.BeamList);
        g.NumLive = 0;
    }

    /// <summary>Inserts a finished hypothesis into the request's best-first list, keeping beam_width of them.</summary>
    private static void AddHypothesis(Request g, Sequence hyp, FinishReason reason, string? stopReason)
    {
        var p = g.Params;
        hyp.Status = SequenceStatus.Finished;
        hyp.FinishReason = reason;
        hyp.StopReason = stopReason;
        hyp.BeamScore = hyp.CumulativeLogProb / LengthFactor(hyp.NumGenerated, p.LengthPenalty);
        var list = g.BeamList;
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

    private bool IsStopToken(SamplingParams p, int token)
    {
        if (token == _options.EosTokenId && !p.IgnoreEos)
            return true;
        var ids = p.StopTokenIds;
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i] == token)
                return true;
        }
        return false;
    }
}
