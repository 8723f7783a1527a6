using Folio.Core.Sampling;

namespace Folio.Core.Tests.Sampling;

public sealed class LogitsSamplerTests
{
    private static readonly float[] Logits = [1f, 3f, 2f, 0f, 3f, -1f];

    private static LogitsSampler Prepared(SamplingParams p, int[]? prompt = null, int[]? generated = null, int[]? suppressed = null)
    {
        var s = new LogitsSampler();
        s.Prepare(Logits, p, prompt ?? [], generated ?? [], suppressed ?? []);
        return s;
    }

    [Fact]
    public void GreedyTakesTheArgmaxAndTiesGoToTheLowerId()
    {
        var p = new SamplingParams { Temperature = 0 };
        Assert.Equal(1, Prepared(p).Sample(p, 0.99));
        Assert.Equal(4, Prepared(p, suppressed: [1]).Sample(p, 0.5));
    }

    [Fact]
    public void TopKOneIsGreedyAndTopKTwoDrawsOnlyTheTopTwo()
    {
        var k1 = new SamplingParams { Temperature = 1, TopK = 1 };
        var k2 = new SamplingParams { Temperature = 1, TopK = 2 };
        for (double u = 0; u < 1; u += 0.05)
        {
            Assert.Equal(1, Prepared(k1).Sample(k1, u));
            Assert.Contains(Prepared(k2).Sample(k2, u), new[] { 1, 4 });
        }
        Assert.Equal(1, Prepared(k2).Sample(k2, 0.1));    // equal logits: half the mass each, lower id first
        Assert.Equal(4, Prepared(k2).Sample(k2, 0.9));
    }

    [Fact]
    public void TopPAndMinPCutTheTail()
    {
        // softmax(1,3,2,0,3,-1): the two 3s hold ~0.72 of the mass; top_p 0.7 keeps exactly them.
        var topP = new SamplingParams { Temperature = 1, TopP = 0.7f };
        var minP = new SamplingParams { Temperature = 1, MinP = 0.5f };   // keeps p >= 0.5·p_max: only logit 3s (e^-1 < 0.5)
        for (double u = 0; u < 1; u += 0.01)
        {
            Assert.Contains(Prepared(topP).Sample(topP, u), new[] { 1, 4 });
            Assert.Contains(Prepared(minP).Sample(minP, u), new[] { 1, 4 });
        }
    }

    [Fact]
    public void UnfilteredSamplingFollowsTheSoftmax()
    {
        var p = new SamplingParams { Temperature = 1 };
        var s = Prepared(p);
        var counts = new int[Logits.Length];
        const int N = 20000;
        for (int i = 0; i < N; i++)
            counts[s.Sample(p, (i + 0.5) / N)]++;
        double z = Logits.Sum(l => Math.Exp(l));
        for (int t = 0; t < Logits.Length; t++)
            Assert.Equal(Math.Exp(Logits[t]) / z, counts[t] / (double)N, 3);
        Assert.Equal(Math.Log(Math.Exp(3) / z), s.LogProb(1), 5);
    }

    [Fact]
    public void LogProbsOfAFullVocabularyAreTheExactLogSoftmaxWithinFp32Rounding()
    {
        // The exponentials (PortableExp, within 1 ulp) are summed in doubles, their log plus the max rounded to fp32
        // (~17 here: half an ulp is 1e-6) and taken from the fp32 logit (results in [−37, −7]: half an ulp is 2e-6).
        var rng = new Random(11);
        var logits = Enumerable.Range(0, 32000).Select(_ => (float)(rng.NextDouble() * 30 - 20)).ToArray();
        var s = new LogitsSampler();
        s.Prepare(logits, new SamplingParams { Temperature = 1 }, [], [], []);
        double max = logits.Max();
        double logSumExp = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
        double worst = 0;
        for (int t = 0; t < logits.Length; t++)
            worst = Math.Max(worst, Math.Abs(s.LogProb(t) - (logits[t] - logSumExp)));
        Assert.True(worst <= 3.5e-6, $"{worst:E2}");
    }

    [Fact]
    public void PenaltiesFollowVllm()
    {
        var p = new SamplingParams { Temperature = 0, RepetitionPenalty = 2f, PresencePenalty = 0.5f, FrequencyPenalty = 0.25f };
        var s = Prepared(p, prompt: [1], generated: [4, 4, 5]);
        // token 1: repetition only (prompt) 3/2; token 4: 3/2 − 2·0.25 − 0.5; token 5: −1·2 − 0.25 − 0.5.
        Assert.Equal(1.5f, s.Work[1]);
        Assert.Equal(0.5f, s.Work[4]);
        Assert.Equal(-2.75f, s.Work[5]);
        Assert.Equal(2f, s.Work[2]);
        Assert.Equal(2, s.Sample(p, 0));
    }

    [Fact]
    public void TopTokensAreBestFirstWithLogprobs()
    {
        var s = Prepared(new SamplingParams());
        var top = new TokenLogprob[3];
        Assert.Equal(3, s.TopTokens(3, top));
        Assert.Equal([1, 4, 2], top.Select(t => t.TokenId));
        Assert.Equal(s.LogProb(2), top[2].LogProb);
    }

    [Fact]
    public void SeededStreams_ArePinned_DifferBySeedIndexAndPosition_AndAreUniform()
    {
        // Pinned values: a seed gives the same tokens in every build and process (hosts store seeds), so the
        // stream may not change silently. The values were computed by a Python transcription of SplitMix64.
        Assert.Equal(0.3714786571771509, SampleStream.Uniform(7, 2, 100));
        Assert.Equal(0.5026230818294767, SampleStream.Uniform(0, 0, 0));
        Assert.NotEqual(SampleStream.Uniform(7, 2, 100), SampleStream.Uniform(7, 2, 101));
        Assert.NotEqual(SampleStream.Uniform(7, 2, 100), SampleStream.Uniform(7, 3, 100));
        Assert.NotEqual(SampleStream.Uniform(7, 2, 100), SampleStream.Uniform(8, 2, 100));
        double mean = Enumerable.Range(0, 10000).Average(i => SampleStream.Uniform(1, 0, i));
        Assert.InRange(mean, 0.48, 0.52);
    }

    [Fact]
    public void IdsPastTheValidTokenCountAreNeverSampled()
    {
        // A model with 6 rows whose tokenizer knows 5 ids: the padding row 5 has the largest logit.
        float[] logits = [0f, 1f, 0f, 0f, 0f, 9f];
        var greedy = new SamplingParams { Temperature = 0 };
        var random = new SamplingParams { Temperature = 1 };
        var s = new LogitsSampler();
        s.Prepare(logits, greedy, [], [], []);
        Assert.Equal(5, s.Sample(greedy, 0.5));   // unmasked, the padding row wins
        s.Prepare(logits, greedy, [], [], [], validTokenCount: 5);
        Assert.Equal(1, s.Sample(greedy, 0.5));
        Assert.Equal(float.NegativeInfinity, s.LogProb(5));
        Assert.Equal(1 - Math.Log(Math.E + 4), s.LogProb(1), 5);   // normalised over the valid ids only
        s.Prepare(logits, random, [], [], [], validTokenCount: 5);
        for (double u = 0; u < 1; u += 0.001)
            Assert.InRange(s.Sample(random, u), 0, 4);
    }

    [Fact]
    public void ADrawAtAnotherTemperatureLeavesTheTemperatureOneDrawsAsAFreshSamplerGivesThem()
    {
        var rng = new Random(11);
        var logits = new float[1000];
        for (int i = 0; i < logits.Length; i++)
            logits[i] = (float)(rng.NextDouble() * 8);
        var t1 = new SamplingParams { Temperature = 1 };
        var t07 = new SamplingParams { Temperature = 0.7f };
        double[] us = [.. Enumerable.Range(0, 40).Select(_ => rng.NextDouble())];
        LogitsSampler Fresh()
        {
            var f = new LogitsSampler();
            f.Prepare(logits, t1, [], [], []);
            return f;
        }
        var s = Fresh();
        int[] before = [.. us.Select(u => s.Sample(t1, u))];
        int[] cooled = [.. us.Select(u => s.Sample(t07, u))];
        Assert.Equal(before, us.Select(u => s.Sample(t1, u)));
        Assert.Equal(cooled, us.Select(u => Fresh().Sample(t07, u)));
        Assert.NotEqual(before, cooled);   // the temperature changed the distribution the draws walk
    }

    [Fact]
    public void ANaNLogitIsNeverTheGreedyToken()
    {
        var greedy = new SamplingParams { Temperature = 0 };
        var s = new LogitsSampler();
        s.Prepare([float.NaN, 1f, 3f, float.NaN, 3f], greedy, [], [], []);
        Assert.Equal(2, s.Sample(greedy, 0.5));
    }
}
