using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Core.Tests.Engine;

/// <summary>HF's <c>early_stopping</c>: True, False (its default), "never".</summary>
internal enum EarlyStopping { True, False, Never }

/// <summary>
/// A brute-force beam search over the fake model's scores, written from Hugging Face transformers'
/// <c>_beam_search</c> (generation/utils.py, the vectorised version) and not from Folio's scheduler:
/// every step takes the top 2·W (with k EOS ids, max(2, 1 + k)·W) continuations of all running beams by cumulative
/// log-probability; those of
/// the top W that end in EOS (or all of the top W at max_new_tokens) are finished hypotheses scored
/// <c>sum_logprobs / generated_length^length_penalty</c>, where the generated length counts the EOS token
/// (<c>cur_len + 1 - decoder_prompt_len</c>); the best W finished are kept; the next running beams are the
/// best W of the 2·W that did not end. After the step, with W finished: early_stopping=True stops;
/// False stops when the best running beam's sum / (generated length)^length_penalty is not above the worst
/// finished score; "never" does the same with max_new_tokens as the length when length_penalty &gt; 0
/// (<c>_check_early_stop_heuristic</c>).
/// </summary>
internal static class BeamReference
{
    public sealed record Beam(int[] Generated, double SumLogProbs);

    public sealed record Hypothesis(int[] Generated, double SumLogProbs, double Score, bool EndsWithEos);

    /// <summary>HF's eos_token_id may be a list: <paramref name="eos"/> plus <paramref name="moreEos"/> (Folio's stop_token_ids).</summary>

    public sealed record Result(List<Hypothesis> Finished, List<List<Beam>> RunningAfterStep, bool StoppedEarly);

    public static Result Run(int[] prompt, int width, int maxNewTokens, float lengthPenalty, EarlyStopping early, int vocab, int eos,
        int[]? moreEos = null)
    {
        int[] eosIds = [eos, .. moreEos ?? []];
        int keep = Math.Max(2, 1 + eosIds.Length) * width;   // HF: beams_to_keep = max(2, 1 + n_eos) * num_beams
        var running = new List<Beam> { new([], 0) };
        var finished = new List<Hypothesis>();
        var runningAfterStep = new List<List<Beam>>();
        var buf = new TokenLogprob[keep];
        for (int len = 1; len <= maxNewTokens; len++)   // len: generated tokens after this step
        {
            // Every continuation of every running beam, best first (ties: beam order, then the model's rank).
            var all = new List<(double Sum, int BeamIndex, int Rank, int Token)>();
            for (int b = 0; b < running.Count; b++)
            {
                FakeExecutor.BeamCandidatesOf(FakeExecutor.HistoryHash([.. prompt, .. running[b].Generated]), buf, vocab);
                for (int k = 0; k < buf.Length; k++)
                    all.Add((running[b].SumLogProbs + buf[k].LogProb, b, k, buf[k].TokenId));
            }
            var top = all.OrderByDescending(c => c.Sum).ThenBy(c => c.BeamIndex).ThenBy(c => c.Rank).Take(keep).ToList();
            bool full = finished.Count == width;
            for (int j = 0; j < width; j++)
            {
                var c = top[j];
                if (!eosIds.Contains(c.Token) && len < maxNewTokens)
                    continue;
                if (early == EarlyStopping.True && full)
                    continue;   // HF: no more hypotheses once the beams are full and early_stopping is True
                double score = c.Sum / Math.Pow(len, lengthPenalty);
                var hyp = new Hypothesis([.. running[c.BeamIndex].Generated, c.Token], c.Sum, score, eosIds.Contains(c.Token));
                int at = finished.Count;
                while (at > 0 && finished[at - 1].Score < score)
                    at--;
                finished.Insert(at, hyp);
                if (finished.Count > width)
                    finished.RemoveAt(width);
            }
            running = top.Where(c => !eosIds.Contains(c.Token)).Take(width)
                .Select(c => new Beam([.. running[c.BeamIndex].Generated, c.Token], c.Sum)).ToList();
            runningAfterStep.Add(running);
            if (len == maxNewTokens)
                break;
            if (finished.Count < width)
                continue;
            if (early == EarlyStopping.True)
                return new Result(finished, runningAfterStep, true);
            int bestLength = early == EarlyStopping.Never && lengthPenalty > 0 ? maxNewTokens : len;
            if (running[0].SumLogProbs / Math.Pow(bestLength, lengthPenalty) <= finished[^1].Score)
                return new Result(finished, runningAfterStep, true);
        }
        return new Result(finished, runningAfterStep, false);
    }
}
