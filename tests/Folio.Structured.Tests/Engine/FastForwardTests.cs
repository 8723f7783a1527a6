using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Structured.Tests.Engine;

/// <summary>
/// Fast-forward: tokens a structured output forces are appended without sampling and computed in the next step as
/// one chunk. Only a choice with one member is used where the count matters: every token after the first is forced.
/// </summary>
public class FastForwardTests(TinyEngine tiny) : IClassFixture<TinyEngine>
{
    private const string Sentence = "the quick brown fox jumps over the lazy dog";

    private async Task<RequestOutput> Run(SamplingParams p)
    {
        var stream = tiny.Engine.Submit(tiny.Prompt("Output:"), p);
        foreach (var _ in stream.ReadAll()) { }
        return await stream.Completion;
    }

    [Fact]
    public async Task ForcedTokensAreAppendedWithoutSampling()
    {
        var before = tiny.Engine.GetSchedulerStats();
        var o = (await Run(new SamplingParams { MaxTokens = 64, Seed = 2, StructuredOutputs = new() { Choice = [Sentence] } })).Outputs.Single();
        var after = tiny.Engine.GetSchedulerStats();
        Assert.Equal(FinishReason.Stop, o.FinishReason);
        Assert.Equal(Sentence, o.Text);
        long forced = after.ForcedTokens - before.ForcedTokens;
        long steps = after.Steps - before.Steps;
        // One step per sampled token (the first is the prompt's step); each forced run rides along in the next step's
        // chunk. The first token is a choice ("t", "th", "the"), and so is the last ("dog" could grow into "dogs").
        Assert.True(forced >= 6, $"forced {forced} of {o.TokenIds.Count}");
        Assert.Equal(o.TokenIds.Count - forced, steps);
    }

    [Fact]
    public async Task MaxTokensCutsAForcedRun()
    {
        var before = tiny.Engine.GetSchedulerStats().ForcedTokens;
        var o = (await Run(new SamplingParams { MaxTokens = 4, Seed = 2, StructuredOutputs = new() { Choice = [Sentence] } })).Outputs.Single();
        Assert.Equal(FinishReason.Length, o.FinishReason);
        Assert.Equal(4, o.TokenIds.Count);
        Assert.StartsWith(o.Text, Sentence, StringComparison.Ordinal);
        Assert.Equal(3, tiny.Engine.GetSchedulerStats().ForcedTokens - before);
    }

    [Fact]
    public async Task NoFastForwardForForksOrLogprobs()
    {
        var before = tiny.Engine.GetSchedulerStats().ForcedTokens;
        var forked = await Run(new SamplingParams { N = 2, MaxTokens = 64, Seed = 2, StructuredOutputs = new() { Choice = [Sentence] } });
        Assert.All(forked.Outputs, o => Assert.Equal(Sentence, o.Text));
        var withLogprobs = (await Run(new SamplingParams { MaxTokens = 64, Seed = 2, Logprobs = 1, StructuredOutputs = new() { Choice = [Sentence] } })).Outputs.Single();
        Assert.Equal(Sentence, withLogprobs.Text);
        Assert.Equal(withLogprobs.TokenIds.Count, withLogprobs.Logprobs!.Count);
        Assert.Equal(before, tiny.Engine.GetSchedulerStats().ForcedTokens);
    }

    [Fact]
    public async Task AStopStringInsideAForcedRunEndsTheTextThere()
    {
        var o = (await Run(new SamplingParams { MaxTokens = 64, Seed = 2, Stop = ["fox"], StructuredOutputs = new() { Choice = [Sentence] } })).Outputs.Single();
        Assert.Equal(FinishReason.Stop, o.FinishReason);
        Assert.Equal("the quick brown ", o.Text);
    }
}
