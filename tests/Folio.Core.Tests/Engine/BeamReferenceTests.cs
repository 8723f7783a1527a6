using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Core.Tests.Engine;

/// <summary>
/// Folio's beam search against <see cref="BeamReference"/>, a brute-force beam search with Hugging Face's
/// semantics over the same fake-model scores: live beams after every step, finished beams (tokens, cumulative
/// log-probability, score, finish reason) and their best-first order. Folio implements HF's default
/// early_stopping=False only (docs/SCHEDULER.md); True and "never" are shown to be different rules.
/// </summary>
public class BeamReferenceTests
{
    // A small vocabulary puts EOS among the 2·W candidates often, so hypotheses finish early and the
    // early-stopping rule decides when a search ends.
    private const int Vocab = 24;
    private const int MaxNew = 24;
    private static readonly float[] Penalties = [1.0f, 0.0f, 2.0f, -0.5f];

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(6)]
    public void BeamSearch_MatchesTheBruteForceReference_StepByStep(int width)
    {
        int stoppedEarly = 0, ranToMax = 0, eosHypotheses = 0, lengthHypotheses = 0;
        foreach (float lp in Penalties)
        {
            for (int seed = 0; seed < 8; seed++)
            {
                int[] prompt = EngineHarness.Prompt(1000 + seed, 3 + seed, Vocab);
                var expected = BeamReference.Run(prompt, width, MaxNew, lp, EarlyStopping.False, Vocab, EngineHarness.Eos);
                var h = new EngineHarness(gpuBlocks: 512, blockSize: 4, maxBatchedTokens: 256, maxSeqs: 16, vocab: Vocab, record: false);
                var p = new SamplingParams { BeamWidth = width, MaxTokens = MaxNew, LengthPenalty = lp };
                var r = h.Add(prompt, p);
                string what = $"width {width}, length_penalty {lp}, prompt seed {seed}";
                int step = 0;
                while (!r.IsFinished)
                {
                    h.Step();
                    step++;
                    if (r.IsFinished)
                        break;
                    var live = r.Sequences.Select(s => new BeamReference.Beam(s.GeneratedTokens.ToArray(), s.CumulativeLogProb)).ToList();
                    AssertBeams(expected.RunningAfterStep[step - 1], live, $"{what}, live beams after step {step}");
                }
                Assert.Equal(expected.RunningAfterStep.Count, step);   // ended at the same step
                var outputs = h.Engine.GetOutput(r).Outputs;
                Assert.Equal(expected.Finished.Count, outputs.Count);
                for (int i = 0; i < outputs.Count; i++)
                {
                    var e = expected.Finished[i];
                    var o = outputs[i];
                    Assert.True(e.Generated.SequenceEqual(o.TokenIds), $"{what}, output {i}: [{string.Join(",", o.TokenIds)}], reference [{string.Join(",", e.Generated)}]");
                    Assert.Equal(e.SumLogProbs, o.CumulativeLogProb, 12);
                    Assert.Equal(e.Score, o.BeamScore, 12);
                    Assert.Equal(e.EndsWithEos ? FinishReason.Stop : FinishReason.Length, o.FinishReason);
                }
                if (expected.StoppedEarly) stoppedEarly++; else ranToMax++;
                eosHypotheses += expected.Finished.Count(x => x.EndsWithEos);
                lengthHypotheses += expected.Finished.Count(x => !x.EndsWithEos);
            }
        }
        // The cases reach every branch: searches stopped by the early-stopping rule and by max_tokens,
        // hypotheses ended by EOS and by length.
        Assert.True(stoppedEarly > 0 && ranToMax > 0 && eosHypotheses > 0 && lengthHypotheses > 0,
            $"early {stoppedEarly}, to max_tokens {ranToMax}, EOS hypotheses {eosHypotheses}, length hypotheses {lengthHypotheses}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(6)]
    public void StopTokenIds_EndBeamsAsHfsListOfEosIdsDoes(int width)
    {
        // Folio's stop_token_ids end a beam as EOS does; in HF they are more eos_token_id entries.
        int stopped = 0;
        for (int seed = 0; seed < 8; seed++)
        {
            int[] prompt = EngineHarness.Prompt(2000 + seed, 4 + seed, Vocab);
            var expected = BeamReference.Run(prompt, width, MaxNew, 1.0f, EarlyStopping.False, Vocab, EngineHarness.Eos, [5, 11]);
            var p = new SamplingParams { BeamWidth = width, MaxTokens = MaxNew, StopTokenIds = [5, 11] };
            var outputs = EngineHarness.Alone(prompt, p, Vocab).Outputs;
            Assert.Equal(expected.Finished.Select(x => x.Generated), outputs.Select(o => o.TokenIds.ToArray()));
            for (int i = 0; i < outputs.Count; i++)
            {
                Assert.Equal(expected.Finished[i].Score, outputs[i].BeamScore, 12);
                Assert.Equal(expected.Finished[i].EndsWithEos ? FinishReason.Stop : FinishReason.Length, outputs[i].FinishReason);
                int last = outputs[i].TokenIds[^1];
                Assert.Equal(last is 5 or 11 && outputs[i].FinishReason == FinishReason.Stop ? last.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
                    outputs[i].StopReason);
            }
            stopped += outputs.Count(o => o.TokenIds[^1] is 5 or 11 && o.FinishReason == FinishReason.Stop);
        }
        Assert.True(stopped > 0, "no beam ended on a stop id");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(6)]
    public void EarlyStoppingTrueAndNever_AreOtherRules_ThatFolioDoesNotFollow(int width)
    {
        // HF's early_stopping=True ends as soon as W hypotheses are finished; "never" (length_penalty > 0)
        // bounds a running beam's best score at max_new_tokens. Folio is early_stopping=False: each differs
        // from it on some of these searches, so the reference test above would catch Folio drifting to either.
        int differTrue = 0, differNever = 0;
        for (int seed = 0; seed < 8; seed++)
        {
            int[] prompt = EngineHarness.Prompt(1000 + seed, 3 + seed, Vocab);
            foreach (float lp in new[] { 0.5f, 1.0f, 2.0f })
            {
                var f = Key(BeamReference.Run(prompt, width, MaxNew, lp, EarlyStopping.False, Vocab, EngineHarness.Eos));
                if (f != Key(BeamReference.Run(prompt, width, MaxNew, lp, EarlyStopping.True, Vocab, EngineHarness.Eos))) differTrue++;
                if (f != Key(BeamReference.Run(prompt, width, MaxNew, lp, EarlyStopping.Never, Vocab, EngineHarness.Eos))) differNever++;
            }
        }
        Assert.True(differTrue > 0 && differNever > 0, $"True differs {differTrue} times, never {differNever} times");

        static string Key(BeamReference.Result r)
            => string.Join(";", r.Finished.Select(x => string.Join(",", x.Generated) + ":" + x.Score.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))
               + "|" + r.RunningAfterStep.Count;
    }

    private static void AssertBeams(List<BeamReference.Beam> expected, List<BeamReference.Beam> actual, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: {actual.Count} beams, reference {expected.Count}");
        for (int b = 0; b < expected.Count; b++)
        {
            Assert.True(expected[b].Generated.SequenceEqual(actual[b].Generated),
                $"{what}, beam {b}: [{string.Join(",", actual[b].Generated)}], reference [{string.Join(",", expected[b].Generated)}]");
            Assert.Equal(expected[b].SumLogProbs, actual[b].SumLogProbs, 12);
        }
    }
}
