using System.Text;
using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Core.Tests.Engine;

/// <summary>The output processor through the engine: text deltas, stop strings with hold-back, n and beam outputs.</summary>
public class OutputProcessorTests
{
    /// <summary>Runs a request on its own engine, collecting every step's deltas.</summary>
    private static (List<OutputDelta> Deltas, RequestOutput Final) Run(int[] prompt, SamplingParams p)
    {
        var h = new EngineHarness();
        var r = h.Add(prompt, p);
        var deltas = new List<OutputDelta>();
        while (h.Engine.HasUnfinished)
            deltas.AddRange(h.Step().Where(d => d.Request == r));
        return (deltas, h.Engine.GetOutput(r));
    }

    private static string FreeText(int[] prompt, int maxTokens, int seed) =>
        EngineHarness.Alone(prompt, new SamplingParams { MaxTokens = maxTokens, Seed = seed, IgnoreEos = true }).Outputs[0].Text;

    [Fact]
    public void StopString_SplitAcrossTokenPieces_IsNeverEmitted()
    {
        int[] prompt = EngineHarness.Prompt(30, 7);
        string text = FreeText(prompt, 30, 5);   // two letters per token
        // A three-letter stop beginning on token k's second letter and ending on token k+1's second, seen nowhere earlier.
        int k = Enumerable.Range(2, 25).First(k => text.IndexOf(text.Substring(2 * k + 1, 3), StringComparison.Ordinal) == 2 * k + 1);
        string stop = text.Substring(2 * k + 1, 3);

        var (deltas, final) = Run(prompt, new SamplingParams { MaxTokens = 30, Seed = 5, IgnoreEos = true, Stop = [stop] });
        var o = final.Outputs[0];
        Assert.Equal(text[..(2 * k + 1)], o.Text);
        Assert.Equal(FinishReason.Stop, o.FinishReason);
        Assert.Equal(stop, o.StopReason);
        Assert.Equal(k + 2, o.TokenIds.Count);

        var streamed = new StringBuilder();
        var tokenDeltas = deltas.Where(d => !d.RequestFinished).ToList();
        Assert.Equal(k + 2, tokenDeltas.Count);
        for (int t = 0; t < tokenDeltas.Count; t++)
        {
            streamed.Append(tokenDeltas[t].Text);
            // Every piece out so far is part of the final text: nothing is taken back.
            Assert.StartsWith(streamed.ToString(), o.Text, StringComparison.Ordinal);
            if (t == k)
                Assert.True(streamed.Length <= 2 * k + 1, $"the stop's first letter left with token {k}: '{streamed}'");
        }
        Assert.Equal(o.Text, streamed.ToString());
        Assert.Equal(FinishReason.Stop, tokenDeltas[^1].FinishReason);
        Assert.Equal(stop, tokenDeltas[^1].StopReason);
        Assert.True(deltas[^1].RequestFinished);
        Assert.Equal(FinishReason.Stop, deltas[^1].FinishReason);
    }

    [Fact]
    public void HoldBack_KeepsOnlyWhatCouldBeginAStopString()
    {
        // "zz" can never match (the fake's letters are a..h), so no step holds anything back: each delta is its token's
        // piece. (The rule before, longest stop - 1 characters, held one character back at every step.)
        int[] prompt = EngineHarness.Prompt(31, 5);
        var (deltas, final) = Run(prompt, new SamplingParams { MaxTokens = 12, Seed = 2, IgnoreEos = true, Stop = ["zz"] });
        var tokenDeltas = deltas.Where(d => !d.RequestFinished).ToList();
        Assert.Equal(12, tokenDeltas.Count);
        for (int t = 0; t < 12; t++)
            Assert.Equal(FakeTextDecoder.TextOf(final.Outputs[0].TokenIds[t]), tokenDeltas[t].Text);
        Assert.Equal(FinishReason.Length, final.Outputs[0].FinishReason);
        Assert.Null(final.Outputs[0].StopReason);
    }

    [Fact]
    public void StopTokenId_IsTheStopReason_AndItsTextStays()
    {
        int[] prompt = EngineHarness.Prompt(32, 5);
        var free = EngineHarness.Alone(prompt, new SamplingParams { MaxTokens = 10, Seed = 3, IgnoreEos = true }).Outputs[0];
        int stopId = free.TokenIds[3];
        int first = free.TokenIds.ToList().IndexOf(stopId);
        var (deltas, final) = Run(prompt, new SamplingParams { MaxTokens = 10, Seed = 3, IgnoreEos = true, StopTokenIds = [stopId] });
        var last = deltas.Last(d => !d.RequestFinished);
        Assert.Equal(FinishReason.Stop, last.FinishReason);
        Assert.Equal(stopId.ToString(System.Globalization.CultureInfo.InvariantCulture), last.StopReason);
        Assert.Equal([stopId], last.NewTokenIds.ToArray());
        // A stop token id (unlike EOS) is detokenized, as vLLM does.
        Assert.Equal(string.Concat(free.TokenIds.Take(first + 1).Select(FakeTextDecoder.TextOf)), final.Outputs[0].Text);
        Assert.Equal(final.Outputs[0].StopReason, last.StopReason);
    }

    [Fact]
    public void StopString_AtMaxTokens_WinsOverLength()
    {
        int[] prompt = EngineHarness.Prompt(33, 6);
        // A seed whose 8-token text holds the two letters at 13..14 nowhere earlier.
        int seed = Enumerable.Range(1, 100).First(s => FreeText(prompt, 8, s) is var t && t.IndexOf(t.Substring(13, 2), StringComparison.Ordinal) == 13);
        string text = FreeText(prompt, 8, seed);
        string stop = text.Substring(13, 2);   // begins on token 7's second letter, ends on the 8th (last allowed) token's first
        var (_, final) = Run(prompt, new SamplingParams { MaxTokens = 8, Seed = seed, IgnoreEos = true, Stop = [stop] });
        Assert.Equal(FinishReason.Stop, final.Outputs[0].FinishReason);
        Assert.Equal(stop, final.Outputs[0].StopReason);
        Assert.Equal(text[..13], final.Outputs[0].Text);
    }

    [Fact]
    public void N2_EachSampleStreamsItsOwnTextAndStops()
    {
        int[] prompt = EngineHarness.Prompt(34, 6);
        var p = new SamplingParams { N = 2, MaxTokens = 16, Seed = 8, IgnoreEos = true };
        var free = EngineHarness.Alone(prompt, p);
        string stop = free.Outputs[1].Text.Substring(9, 2);
        var withStop = p with { Stop = [stop] };
        var (deltas, final) = Run(prompt, withStop);
        Assert.Equal([0, 1], final.Outputs.Select(o => o.Index));
        for (int i = 0; i < 2; i++)
        {
            var o = final.Outputs[i];
            var mine = deltas.Where(d => !d.RequestFinished && d.Index == i).ToList();
            Assert.Equal(o.TokenIds, mine.SelectMany(d => d.NewTokenIds.ToArray()));
            Assert.Equal(o.Text, string.Concat(mine.Select(d => d.Text)));
            int at = free.Outputs[i].Text.IndexOf(stop, StringComparison.Ordinal);
            string expected = at >= 0 ? free.Outputs[i].Text[..at] : free.Outputs[i].Text;
            Assert.Equal(expected, o.Text);
            Assert.Equal(at >= 0 ? FinishReason.Stop : FinishReason.Length, o.FinishReason);
        }
        Assert.Equal(stop, final.Outputs[1].StopReason);
        Assert.Single(deltas, d => d.RequestFinished);
    }

    [Fact]
    public async Task N2_AStopStringEndingTheRequest_WhileTheOtherSampleStopsByTokenId_EndsTheStepsDeltas()
    {
        // Failed before the output processor took each update as the scheduler made it: sample 1 met a stop token
        // id in postprocess, then, in the same step, sample 0's stop string ended the request while the processor
        // read the update list back, so the step's deltas were [sample 0, the end, sample 1]: sample 1's last
        // delta came after the end record, and the stream (closed at the end record) never got it.
        int[] prompt = EngineHarness.Prompt(34, 6);
        var (p, stop, stopId) = (from seed in Enumerable.Range(1, 200)
                                 let q = new SamplingParams { N = 2, MaxTokens = 16, Seed = seed, IgnoreEos = true }
                                 let free = EngineHarness.Alone(prompt, q)
                                 let a = free.Outputs[0]
                                 let b = free.Outputs[1]
                                 from t in Enumerable.Range(2, 12)
                                 let id = b.TokenIds[t]
                                 let s = a.Text.Substring(2 * t, 2)
                                 where !b.TokenIds.Take(t).Contains(id) && !a.TokenIds.Take(t + 1).Contains(id)
                                     && a.Text.IndexOf(s, StringComparison.Ordinal) == 2 * t
                                     && !b.Text[..(2 * t + 2)].Contains(s, StringComparison.Ordinal)
                                 select (q, s, id)).First();
        var h = new EngineHarness();
        var stream = h.Engine.Submit(prompt, p with { Stop = [stop], StopTokenIds = [stopId] });
        var streamed = stream.ReadAll().SelectMany(o => o.Outputs).ToList();
        var final = await stream.Completion;
        Assert.Equal(stop, final.Outputs[0].StopReason);
        Assert.Equal(stopId.ToString(System.Globalization.CultureInfo.InvariantCulture), final.Outputs[1].StopReason);
        Assert.Equal(final.Outputs[0].TokenIds.Count, final.Outputs[1].TokenIds.Count);   // the same step
        for (int i = 0; i < 2; i++)
        {
            var mine = streamed.Where(o => o.Index == i).ToList();
            Assert.Equal(final.Outputs[i].TokenIds, mine.SelectMany(o => o.TokenIds));
            Assert.Equal(FinishReason.Stop, mine[^1].FinishReason);
        }
    }

    [Fact]
    public void BeamSearch_OutputsCarryTheirText()
    {
        // Failed before the output processor: beams were never detokenized, so every beam's Text was "".
        var (deltas, final) = Run(EngineHarness.Prompt(80, 6), new SamplingParams { BeamWidth = 3, MaxTokens = 5, IgnoreEos = true });
        Assert.Equal(3, final.Outputs.Count);
        foreach (var c in final.Outputs)
            Assert.Equal(string.Concat(c.TokenIds.Select(FakeTextDecoder.TextOf)), c.Text);
        // The beams come out once, at the end, best first, each whole; then the request's end.
        Assert.Equal(4, deltas.Count);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i, deltas[i].Index);
            Assert.Equal(final.Outputs[i].TokenIds, deltas[i].NewTokenIds.ToArray());
            Assert.Equal(final.Outputs[i].Text, deltas[i].Text);
        }
        Assert.True(deltas[3].RequestFinished);
    }

    [Fact]
    public void Snapshot_OfARunningSequence_ShowsOnlyTheTextHandedOut()
    {
        int[] prompt = EngineHarness.Prompt(35, 5);
        string text = FreeText(prompt, 12, 6);
        string stop = text.Substring(5, 1) + "z";   // its first letter is held back wherever it ends the text
        var h = new EngineHarness();
        var r = h.Add(prompt, new SamplingParams { MaxTokens = 12, Seed = 6, IgnoreEos = true, Stop = [stop] });
        var streamed = new StringBuilder();
        while (h.Engine.HasUnfinished)
        {
            foreach (var d in h.Step().Where(d => d.Request == r && !d.RequestFinished))
                streamed.Append(d.Text);
            Assert.Equal(streamed.ToString(), h.Engine.GetOutput(r).Outputs[0].Text);
        }
        Assert.Equal(text, streamed.ToString());
    }
}
