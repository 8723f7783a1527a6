using Folio.Core.Simulation;

namespace Folio.Core.Tests.Simulation;

public class TraceReaderTests
{
    private static TraceReadResult Read(string text) => TraceReader.Read(new StringReader(text), "t.jsonl", maxSequenceTokens: 2048);

    [Fact]
    public void Reads_lengths_and_skips_blank_lines()
    {
        var result = Read("{\"input_len\": 120, \"output_len\": 300}\n\n{\"input_len\":1,\"output_len\":2,\"extra\":\"x\"}\n");
        Assert.True(result.Ok);
        Assert.Equal([new SimRequest(120, 300), new SimRequest(1, 2)], result.Requests!);
    }

    [Fact]
    public void Orders_by_arrival_when_given_stably_for_ties()
    {
        var result = Read("""
            {"input_len": 1, "output_len": 1, "arrival_s": 2.5}
            {"input_len": 2, "output_len": 2, "arrival_s": 0}
            {"input_len": 3, "output_len": 3, "arrival_s": 2.5}
            """);
        Assert.True(result.Ok);
        Assert.Equal([2, 1, 3], result.Requests!.Select(r => r.InputTokens));
        Assert.Equal(0.0, result.Requests![0].ArrivalS);
    }

    [Theory]
    [InlineData("{\"input_len\": 1, \"output_len\": 1}\n{\"input_len\": 5, \"output_len\": 3", "t.jsonl line 2: malformed JSON at column 33 (")]
    [InlineData("not json", "t.jsonl line 1: malformed JSON")]
    [InlineData("[1, 2]", "t.jsonl line 1: expected a JSON object, got an array")]
    [InlineData("{\"input_len\": -5, \"output_len\": 3}", "t.jsonl line 1: \"input_len\" is negative (-5)")]
    [InlineData("{\"input_len\": 5, \"output_len\": -1}", "t.jsonl line 1: \"output_len\" is negative (-1)")]
    [InlineData("{\"input_len\": 0, \"output_len\": 3}", "t.jsonl line 1: \"input_len\" must be at least 1 token, got 0")]
    [InlineData("{\"output_len\": 3}", "t.jsonl line 1: missing \"input_len\"")]
    [InlineData("{\"input_len\": \"7\", \"output_len\": 3}", "t.jsonl line 1: \"input_len\" must be an integer, got a string")]
    [InlineData("{\"input_len\": 2.5, \"output_len\": 3}", "t.jsonl line 1: \"input_len\" must be an integer, got 2.5")]
    [InlineData("{\"input_len\": 2000, \"output_len\": 100}", "t.jsonl line 1: input_len + output_len = 2100 exceeds the maximum sequence length 2048")]
    [InlineData("{\"input_len\": 2, \"output_len\": 3, \"arrival_s\": -1}", "t.jsonl line 1: \"arrival_s\" is negative (-1)")]
    [InlineData("", "t.jsonl: the trace holds no requests")]
    [InlineData("{\"input_len\": 2, \"output_len\": 3, \"arrival_s\": 1}\n{\"input_len\": 2, \"output_len\": 3}", "t.jsonl: \"arrival_s\" is given on 1 of 2 lines; give it on all or none")]
    public void A_bad_trace_names_the_line_and_the_problem(string text, string expectedStart)
    {
        var result = Read(text);
        Assert.False(result.Ok);
        Assert.Null(result.Requests);
        Assert.StartsWith(expectedStart, result.Error);
        Assert.DoesNotContain("\n", result.Error!, StringComparison.Ordinal);
    }
}
