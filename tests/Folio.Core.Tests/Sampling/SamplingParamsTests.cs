using Folio.Core.Sampling;

namespace Folio.Core.Tests.Sampling;

public class SamplingParamsTests
{
    public static TheoryData<SamplingParams, string, string> BadParams => new()
    {
        { new SamplingParams { Temperature = -0.1f }, "Temperature", "temperature must be >= 0 (0 = greedy), got -0.1." },
        { new SamplingParams { TopP = 0 }, "TopP", "top_p must be in (0, 1], got 0." },
        { new SamplingParams { TopP = 1.5f }, "TopP", "top_p must be in (0, 1], got 1.5." },
        { new SamplingParams { N = 0 }, "N", "n must be at least 1, got 0." },
        { new SamplingParams { MaxTokens = 0 }, "MaxTokens", "max_tokens must be at least 1, got 0." },
        { new SamplingParams { MaxTokens = 4, MinTokens = 5 }, "MinTokens", "min_tokens (5) must not exceed max_tokens (4)." },
        { new SamplingParams { TopK = -2 }, "TopK", "top_k must be 0 (off) or positive, got -2." },
        { new SamplingParams { TopK = -1 }, "TopK", "top_k must be 0 (off) or positive, got -1." },
        { new SamplingParams { MinP = 1.5f }, "MinP", "min_p must be in [0, 1], got 1.5." },
        { new SamplingParams { RepetitionPenalty = 0 }, "RepetitionPenalty", "repetition_penalty must be > 0, got 0." },
        { new SamplingParams { PresencePenalty = 3 }, "PresencePenalty", "presence_penalty must be in [-2, 2], got 3." },
        { new SamplingParams { FrequencyPenalty = -3 }, "FrequencyPenalty", "frequency_penalty must be in [-2, 2], got -3." },
        { new SamplingParams { Stop = ["ok", ""] }, "Stop", "stop[1] must be a non-empty string." },
        { new SamplingParams { StopTokenIds = [3, -1] }, "StopTokenIds", "stop_token_ids[1] must be >= 0, got -1." },
        { new SamplingParams { Logprobs = 21 }, "Logprobs", "logprobs must be in [0, 20], got 21." },
        { new SamplingParams { BeamWidth = -1 }, "BeamWidth", "beam_width must be >= 0 (0 = no beam search), got -1." },
        { new SamplingParams { BeamWidth = 2, N = 2 }, "N", "n must be 1 with beam search (beam_width 2 sets the number of outputs), got 2." },
        { new SamplingParams { BeamWidth = 3, Stop = ["\n"] }, "Stop", "stop strings are not supported with beam search (beam_width 3); use stop_token_ids." },
        { new SamplingParams { LengthPenalty = float.NaN }, "LengthPenalty", "length_penalty must be a finite number, got NaN." },
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
    public void Defaults_AreValid_LikeVllm()
    {
        var p = new SamplingParams();
        p.Validate();
        Assert.Equal(1, p.N);
        Assert.Equal(1.0f, p.Temperature);
        Assert.Equal(16, p.MaxTokens);
        Assert.Equal(1, p.Width);
        Assert.Equal(3, (p with { BeamWidth = 3 }).Width);
        new SamplingParams { Temperature = 0, TopP = 1, TopK = 0, MinTokens = 16 }.Validate();
    }

    [Fact]
    public void Engine_RejectsBadParamsAndStopStringsWithoutADecoder()
    {
        var h = new Engine.EngineHarness(decoder: false);
        var e = Assert.Throws<ArgumentException>(() => h.Add([1, 2], new SamplingParams { TopP = 0 }));
        Assert.Equal("TopP", e.ParamName);
        var e2 = Assert.Throws<ArgumentException>(() => h.Add([1, 2], new SamplingParams { Stop = ["x"] }));
        Assert.StartsWith("stop strings need a text decoder", e2.Message, StringComparison.Ordinal);
        var e3 = Assert.Throws<ArgumentException>(() => h.Add([1, -2], new SamplingParams()));
        Assert.StartsWith("prompt token 1 is -2", e3.Message, StringComparison.Ordinal);
        Assert.False(h.Engine.HasUnfinished);
    }
}
