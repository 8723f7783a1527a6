using Folio.Core.Sampling;

namespace Folio.Core.Tests.Sampling;

/// <summary>structured_outputs, logit_bias, allowed_token_ids and bad_words: validation, compilation at admission
/// (<see cref="RequestConstraints"/>) and their effect on the sampler's logits.</summary>
public sealed class TokenConstraintTests
{
    private static readonly float[] Logits = [1f, 3f, 2f, 0f, 3f, -1f, 0.5f, 0.25f];
    private const int Eos = 7;

    public static TheoryData<SamplingParams, string, string> BadParams => new()
    {
        { new SamplingParams { StructuredOutputs = new StructuredOutputs() }, "StructuredOutputs",
            "structured_outputs must set exactly one of json, regex, choice, grammar, json_object; 0 are set." },
        { new SamplingParams { StructuredOutputs = new StructuredOutputs { Regex = "a", JsonObject = true } }, "StructuredOutputs",
            "structured_outputs must set exactly one of json, regex, choice, grammar, json_object; 2 are set." },
        { new SamplingParams { StructuredOutputs = new StructuredOutputs { Choice = [] } }, "StructuredOutputs",
            "structured_outputs.choice must hold at least one string." },
        { new SamplingParams { StructuredOutputs = new StructuredOutputs { Choice = ["a", ""] } }, "StructuredOutputs",
            "structured_outputs.choice[1] must be a non-empty string." },
        { new SamplingParams { StructuredOutputs = new StructuredOutputs { Json = "" } }, "StructuredOutputs",
            "structured_outputs.json must be a non-empty JSON schema." },
        { new SamplingParams { StructuredOutputs = new StructuredOutputs { Grammar = "" } }, "StructuredOutputs",
            "structured_outputs.grammar must be a non-empty GBNF grammar." },
        { new SamplingParams { BeamWidth = 2, StructuredOutputs = new StructuredOutputs { JsonObject = true } }, "StructuredOutputs",
            "structured_outputs is not supported with beam search (beam_width 2)." },
        { new SamplingParams { LogitBias = new Dictionary<int, float> { [-1] = 1 } }, "LogitBias", "logit_bias token id must be >= 0, got -1." },
        { new SamplingParams { LogitBias = new Dictionary<int, float> { [3] = 101 } }, "LogitBias", "logit_bias[3] must be in [-100, 100], got 101." },
        { new SamplingParams { LogitBias = new Dictionary<int, float> { [3] = float.NaN } }, "LogitBias", "logit_bias[3] must be in [-100, 100], got NaN." },
        { new SamplingParams { AllowedTokenIds = [] }, "AllowedTokenIds", "allowed_token_ids must not be empty (null = no restriction)." },
        { new SamplingParams { AllowedTokenIds = [2, -4] }, "AllowedTokenIds", "allowed_token_ids[1] must be >= 0, got -4." },
        { new SamplingParams { BadWords = ["ok", " "] }, "BadWords", "bad_words[1] must be a non-empty word." },
    };

    [Theory]
    [MemberData(nameof(BadParams))]
    public void Validate_NamesTheBadField(SamplingParams p, string field, string message)
    {
        var e = Assert.Throws<ArgumentException>(p.Validate);
        Assert.Equal(field, e.ParamName);
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OffByDefault()
    {
        var p = new SamplingParams();
        Assert.Null(p.StructuredOutputs);
        Assert.Null(p.LogitBias);
        Assert.Null(p.AllowedTokenIds);
        Assert.Null(p.BadWords);
        Assert.False(p.HasTokenConstraints);
        Assert.Null(RequestConstraints.Build(p, new FakeConstraintFactory(8, Eos)));
    }

    [Fact]
    public void IdsOutsideTheVocabularyAndMissingTokenizerAreRefusedAtAdmission()
    {
        var f = new FakeConstraintFactory(8, Eos);
        var e = Assert.Throws<ArgumentException>(() => RequestConstraints.Build(new SamplingParams { AllowedTokenIds = [8] }, f));
        Assert.Equal(("AllowedTokenIds", "allowed_token_ids token id 8 is outside the vocabulary (8 tokens)."), (e.ParamName, e.Message[..e.Message.IndexOf(" (Parameter", StringComparison.Ordinal)]));
        e = Assert.Throws<ArgumentException>(() => RequestConstraints.Build(new SamplingParams { LogitBias = new Dictionary<int, float> { [9] = 1 } }, f));
        Assert.Equal("LogitBias", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => RequestConstraints.Build(new SamplingParams { StructuredOutputs = new() { Regex = "a" } }, null));
        Assert.Equal("StructuredOutputs", e.ParamName);
        Assert.StartsWith("structured_outputs needs a tokenizer; this engine has none.", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => RequestConstraints.Build(new SamplingParams { BadWords = ["w1"] }, null));
        Assert.Equal("BadWords", e.ParamName);
        // Without a tokenizer, ids are not bounded by a vocabulary (the sampler drops ids past its logits).
        Assert.NotNull(RequestConstraints.Build(new SamplingParams { AllowedTokenIds = [100] }, null));
    }

    [Fact]
    public void BadWordsAreTokenizedAsWrittenAndAfterASpace()
    {
        var f = new FakeConstraintFactory(16, Eos);
        var c = RequestConstraints.Build(new SamplingParams { BadWords = ["  w3", "w2 w5"] }, f)!;
        // "w3" → [3]; " w3" → [4] (its own word-start token); "w2 w5" → [2, 6]; " w2 w5" → [3, 6].
        Assert.Equal([[3], [4], [2, 6], [3, 6]], c.BadWords!.Select(w => w.ToArray()).ToArray());
    }

    private static LogitsSampler Prepared(SamplingParams p, ITokenConstraintFactory? f, int[]? generated = null, ulong[]? grammarMask = null, int[]? suppressed = null)
    {
        var constraints = RequestConstraints.Build(p, f);
        var s = new LogitsSampler();
        s.Prepare(Logits, p, [], generated ?? [], suppressed ?? [], int.MaxValue, new LogitsConstraints(constraints, grammarMask));
        return s;
    }

    [Fact]
    public void TheGrammarMaskLeavesOnlyItsTokensAndRenormalises()
    {
        var f = new FakeConstraintFactory(8, Eos);
        var p = new SamplingParams { Temperature = 1, StructuredOutputs = new() { Regex = "x" } };
        ulong[] mask = [(1UL << 2) | (1UL << 6)];
        var s = Prepared(p, f, grammarMask: mask);
        float[] expected = [float.NegativeInfinity, float.NegativeInfinity, 2f, float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, 0.5f, float.NegativeInfinity];
        Assert.Equal(expected, s.Work.ToArray());
        double z = Math.Log(Math.Exp(2) + Math.Exp(0.5));
        Assert.Equal(2 - z, s.LogProb(2), 5);
        for (double u = 0; u < 1; u += 0.01)
            Assert.Contains(s.Sample(p, u), new[] { 2, 6 });
        var greedy = p with { Temperature = 0 };
        Assert.Equal(2, Prepared(greedy, f, grammarMask: mask).Sample(greedy, 0.5));
    }

    [Fact]
    public void AllowedTokenIdsBadWordsAndLogitBias()
    {
        var f = new FakeConstraintFactory(8, Eos);
        var greedy = new SamplingParams { Temperature = 0 };
        Assert.Equal(2, Prepared(greedy with { AllowedTokenIds = [0, 2, 3] }, f).Sample(greedy, 0.5));
        var biased = greedy with { LogitBias = new Dictionary<int, float> { [1] = -100, [4] = -100, [5] = 4.5f } };
        var s = Prepared(biased, f);
        Assert.Equal(5, s.Sample(biased, 0.5));
        Assert.Equal(3.5f, s.Work[5]);
        Assert.Equal(-97f, s.Work[1]);
        // "w1" bans token 1 outright (and " w1" = token 2); "w3 w4" = [3, 5] bans 5 only right after 3.
        var bad = greedy with { BadWords = ["w1", "w3 w4"] };
        Assert.Equal(4, Prepared(bad, f).Sample(bad, 0.5));
        Assert.True(float.IsNegativeInfinity(Prepared(bad, f).Work[2]));
        Assert.Equal(-1f, Prepared(bad, f, generated: [0]).Work[5]);
        Assert.True(float.IsNegativeInfinity(Prepared(bad, f, generated: [0, 3]).Work[5]));
    }

    [Fact]
    public void NothingAllowedSamplesTheLowestIdWithoutNaN()
    {
        var f = new FakeConstraintFactory(8, Eos);
        var p = new SamplingParams { Temperature = 0.7f, TopP = 0.9f, AllowedTokenIds = [7] };
        var s = Prepared(p, f, suppressed: [7]);
        Assert.Equal(0, s.Sample(p, 0.3));
        Assert.Equal(float.NegativeInfinity, s.LogProb(0));
        var unfiltered = p with { TopP = 1 };
        Assert.Equal(0, Prepared(unfiltered, f, suppressed: [7]).Sample(unfiltered, 0.3));
    }
}
