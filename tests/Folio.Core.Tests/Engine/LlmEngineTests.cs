using Folio.Core.Engine;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;

namespace Folio.Core.Tests.Engine;

public class LlmEngineTests
{
    [Fact]
    public void Generate_ReturnsOutputsInRequestOrder()
    {
        var h = new EngineHarness(gpuBlocks: 32, maxBatchedTokens: 16, maxSeqs: 4);
        var prompts = Enumerable.Range(0, 9).Select(i => EngineHarness.Prompt(60 + i, 3 + 5 * i)).ToList();
        var p = new SamplingParams { MaxTokens = 6, Seed = 42, IgnoreEos = true };
        var outputs = h.Engine.Generate(prompts, p);
        Assert.Equal(9, outputs.Count);
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(prompts[i], outputs[i].PromptTokenIds);
            Assert.True(outputs[i].Finished);
            EngineHarness.AssertSameTokens(EngineHarness.Alone(prompts[i], p), outputs[i]);
        }
        Assert.False(h.Engine.HasUnfinished);
    }

    [Fact]
    public void Logprobs_ComeWithEachSampledToken()
    {
        var h = new EngineHarness();
        var r = h.Add(EngineHarness.Prompt(70, 5), new SamplingParams { MaxTokens = 4, Seed = 1, IgnoreEos = true, Logprobs = 3 });
        h.RunToCompletion();
        var o = h.Engine.GetOutput(r).Outputs[0];
        Assert.Equal(4, o.Logprobs!.Count);
        double sum = 0;
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(3, o.Logprobs[i].Length);
            Assert.Equal(o.TokenIds[i], o.Logprobs[i][0].TokenId);   // the fake puts the sampled token first
            sum += o.Logprobs[i][0].LogProb;
        }
        Assert.Equal(sum, o.CumulativeLogProb, 6);
    }

    [Fact]
    public void Step_StreamsEachNewTokenAndOneFinishPerRequest()
    {
        var h = new EngineHarness();
        var r = h.Add(EngineHarness.Prompt(71, 6), new SamplingParams { N = 2, MaxTokens = 3, Seed = 9, IgnoreEos = true });
        var streamed = new List<(int index, int token)>();
        int finishes = 0;
        while (h.Engine.HasUnfinished)
        {
            foreach (var u in h.Step())
            {
                if (u.RequestFinished)
                    finishes++;
                else
                    streamed.Add((u.Sequence!.Index, u.Sequence.GeneratedTokens[^1]));
            }
        }
        Assert.Equal(1, finishes);
        var o = h.Engine.GetOutput(r);
        Assert.Equal(o.Outputs[0].TokenIds, streamed.Where(s => s.index == 0).Select(s => s.token));
        Assert.Equal(o.Outputs[1].TokenIds, streamed.Where(s => s.index == 1).Select(s => s.token));
        Assert.Equal(SequenceStatus.Finished, r.Status);
    }
}
