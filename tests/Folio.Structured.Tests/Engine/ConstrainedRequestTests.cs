using System.Text.RegularExpressions;
using Folio.Core.Engine;
using Folio.Core.Sampling;

namespace Folio.Structured.Tests.Engine;

/// <summary>Regex, choice and GBNF outputs end to end on the tiny model; forks (n &gt; 1), cut-offs and bad input.</summary>
public partial class ConstrainedRequestTests(TinyEngine tiny) : IClassFixture<TinyEngine>
{
    private async Task<RequestOutput> Run(SamplingParams p, string prompt = "Output:")
    {
        var stream = tiny.Engine.Submit(tiny.Prompt(prompt), p);
        foreach (var _ in stream.ReadAll()) { }
        return await stream.Completion;
    }

    [Fact]
    public async Task RegexOutputsFullyMatch()
    {
        const string pattern = @"[A-Z][a-z]{2,6}-\d{3}(\.\d)?";
        var full = new Regex("^(?:" + pattern + ")$", RegexOptions.CultureInvariant);
        for (int seed = 0; seed < 24; seed++)
        {
            var o = (await Run(new SamplingParams { MaxTokens = 64, Seed = seed, StructuredOutputs = new() { Regex = pattern } })).Outputs.Single();
            Assert.Equal(FinishReason.Stop, o.FinishReason);
            Assert.Matches(full, o.Text);
        }
    }

    [Fact]
    public async Task ChoiceOutputsAreOneOfTheChoicesForEveryForkedSequence()
    {
        string[] choices = ["positive", "negative", "neutral", "mixed feelings"];
        for (int seed = 0; seed < 8; seed++)
        {
            // n = 4: the prompt's sequence forks after its first token; each fork continues its own constraint.
            var r = await Run(new SamplingParams { N = 4, MaxTokens = 16, Seed = seed, StructuredOutputs = new() { Choice = choices } });
            Assert.Equal(4, r.Outputs.Count);
            foreach (var o in r.Outputs)
            {
                Assert.Equal(FinishReason.Stop, o.FinishReason);
                Assert.Contains(o.Text, choices);
            }
        }
    }

    [Fact]
    public async Task GbnfOutputsFollowTheGrammar()
    {
        const string grammar = """
            root ::= "[" item ("," item)* "]"
            item ::= [0-9]+ | "\"" [a-z]+ "\""
            """;
        var shape = new Regex("""^\[(\d+|"[a-z]+")(,(\d+|"[a-z]+"))*\]$""", RegexOptions.CultureInvariant);
        for (int seed = 0; seed < 12; seed++)
        {
            var o = (await Run(new SamplingParams { MaxTokens = 200, Seed = seed, Temperature = 0.8f, LogitBias = tiny.Closers,
                StructuredOutputs = new() { Grammar = grammar } })).Outputs.Single();
            if (o.FinishReason == FinishReason.Length)
                continue;
            Assert.Equal(FinishReason.Stop, o.FinishReason);
            Assert.Matches(shape, o.Text);
        }
    }

    [Fact]
    public async Task MaxTokensCutsAreReportedAsLength()
    {
        // 40 digits cannot fit in 3 tokens: the output is cut, reported as Length, never as a complete match.
        var o = (await Run(new SamplingParams { MaxTokens = 3, Seed = 1, StructuredOutputs = new() { Regex = @"\d{40}" } })).Outputs.Single();
        Assert.Equal(FinishReason.Length, o.FinishReason);
        Assert.Equal(3, o.TokenIds.Count);
        Assert.Matches(DigitsOnly(), o.Text);
        Assert.True(o.Text.Length < 40);
    }

    [Fact]
    public async Task BadInputIsRefusedAtSubmissionAndTheEngineKeepsServing()
    {
        (StructuredOutputs Spec, string Message)[] bad =
        [
            (new() { Json = "{\"type\": \"object\"," }, "structured_outputs.json: "),
            (new() { Json = "{\"type\": \"integer\", \"multipleOf\": 3}" }, "structured_outputs.json: unsupported keyword 'multipleOf' at #"),
            (new() { Json = "{\"type\": \"object\", \"properties\": {\"a\": {\"not\": {\"type\": \"string\", \"maxLength\": 2}}}}" },
                "structured_outputs.json: unsupported keyword 'not' at #/properties/a/not"),
            (new() { Regex = "(ab" }, "structured_outputs.regex: "),
            (new() { Grammar = "root ::= item" }, "structured_outputs.grammar: "),
            (new() { Json = "{\"type\": \"string\", \"minLength\": 3, \"maxLength\": 2}" }, "structured_outputs.json: "),
        ];
        foreach (var (spec, message) in bad)
        {
            var e = Assert.Throws<ArgumentException>(() => tiny.Engine.Submit(tiny.Prompt("x"), new SamplingParams { StructuredOutputs = spec }));
            Assert.Equal("StructuredOutputs", e.ParamName);
            Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
        }
        var ok = (await Run(new SamplingParams { MaxTokens = 8, StructuredOutputs = new() { Choice = ["yes", "no"] } })).Outputs.Single();
        Assert.Contains(ok.Text, new[] { "yes", "no" });
    }

    [Fact]
    public async Task BadWordsAndAllowedTokenIdsHoldOnTheRealTokenizer()
    {
        var allowed = tiny.Prompt(" yes no maybe").Distinct().ToArray();
        var o = (await Run(new SamplingParams { MaxTokens = 12, Seed = 3, AllowedTokenIds = allowed })).Outputs.Single();
        Assert.All(o.TokenIds, t => Assert.Contains(t, allowed));
        // Ban every word of the unconstrained greedy output: none of their single-token spellings comes back.
        var free = (await Run(new SamplingParams { MaxTokens = 12, Seed = 5, Temperature = 0 })).Outputs.Single();
        var words = free.TokenIds.Select(t => tiny.Tokenizer.Decode([t]).Trim()).Where(w => w.Length > 0 && !w.Contains(' ')).Distinct().ToList();
        var banned = (await Run(new SamplingParams { MaxTokens = 12, Seed = 5, Temperature = 0, BadWords = words })).Outputs.Single();
        var bannedIds = words.SelectMany(w => new[] { tiny.Prompt(w), tiny.Prompt(" " + w) }).Where(ids => ids.Length == 1).Select(ids => ids[0]).ToHashSet();
        Assert.NotEmpty(bannedIds);
        Assert.DoesNotContain(banned.TokenIds, bannedIds.Contains);
    }

    [GeneratedRegex(@"^\d*$")]
    private static partial Regex DigitsOnly();
}
