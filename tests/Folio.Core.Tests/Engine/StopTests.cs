using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Core.Tests.Engine;

public class StopTests
{
    [Fact]
    public void StopString_SplitAcrossTwoTokens_EndsTheSequenceAndIsTrimmed()
    {
        int[] prompt = EngineHarness.Prompt(20, 9);
        var free = EngineHarness.Alone(prompt, new SamplingParams { MaxTokens = 40, Seed = 9, IgnoreEos = true });
        var tokens = free.Outputs[0].TokenIds;
        string text = string.Concat(tokens.Select(FakeTextDecoder.TextOf));
        Assert.Equal(text, free.Outputs[0].Text);
        // A two-letter stop string made of token k's second letter and token k+1's first, seen nowhere earlier.
        int k = Enumerable.Range(2, tokens.Count - 3).First(k => text.IndexOf(text.Substring(2 * k + 1, 2), StringComparison.Ordinal) == 2 * k + 1);
        string stop = text.Substring(2 * k + 1, 2);

        var h = new EngineHarness();
        var r = h.Add(prompt, new SamplingParams { MaxTokens = 40, Seed = 9, IgnoreEos = true, Stop = [stop] });
        h.RunToCompletion();
        var o = h.Engine.GetOutput(r).Outputs[0];
        Assert.Equal(tokens.Take(k + 2), o.TokenIds);
        Assert.Equal(FinishReason.Stop, o.FinishReason);
        Assert.Equal(stop, o.StopReason);
        Assert.Equal(text[..(2 * k + 1)], o.Text);
    }

    [Fact]
    public void MinTokens_SuppressesEos()
    {
        // A vocabulary of 8 makes EOS (id 0) come early.
        int[] prompt = EngineHarness.Prompt(21, 6, vocab: 8);
        var p = new SamplingParams { MaxTokens = 60, Seed = 4 };
        var early = EngineHarness.Alone(prompt, p, vocab: 8).Outputs[0];
        Assert.Equal(FinishReason.Stop, early.FinishReason);
        Assert.True(early.TokenIds.Count < 10, $"precondition: EOS within 10 tokens, got {early.TokenIds.Count}");
        Assert.Equal(EngineHarness.Eos, early.TokenIds[^1]);

        var late = EngineHarness.Alone(prompt, p with { MinTokens = 10 }, vocab: 8).Outputs[0];
        Assert.True(late.TokenIds.Count >= 10);
        Assert.DoesNotContain(EngineHarness.Eos, late.TokenIds.Take(9));
        // Tokens before the first suppression are unchanged.
        Assert.Equal(early.TokenIds.Take(early.TokenIds.Count - 1), late.TokenIds.Take(early.TokenIds.Count - 1));
        if (late.FinishReason == FinishReason.Stop)
            Assert.Equal(EngineHarness.Eos, late.TokenIds[^1]);
        else
            Assert.Equal(60, late.TokenIds.Count);
    }

    [Fact]
    public void StopTokenIds_AndMaxTokens_EndSequences()
    {
        int[] prompt = EngineHarness.Prompt(22, 5);
        var free = EngineHarness.Alone(prompt, new SamplingParams { MaxTokens = 10, Seed = 3, IgnoreEos = true }).Outputs[0];
        Assert.Equal(FinishReason.Length, free.FinishReason);
        Assert.Equal(10, free.TokenIds.Count);
        int stopId = free.TokenIds[4];
        int first = free.TokenIds.ToList().IndexOf(stopId);
        var stopped = EngineHarness.Alone(prompt, new SamplingParams { MaxTokens = 10, Seed = 3, IgnoreEos = true, StopTokenIds = [stopId] }).Outputs[0];
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(stopId.ToString(System.Globalization.CultureInfo.InvariantCulture), stopped.StopReason);
        Assert.Equal(free.TokenIds.Take(first + 1), stopped.TokenIds);
    }
}
