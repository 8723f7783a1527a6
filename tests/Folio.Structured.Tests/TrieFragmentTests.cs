using Folio.Core.Models;

namespace Folio.Structured.Tests;

/// <summary>
/// Trie walks made of shared fragments (<see cref="TrieFragment"/>, keyed by <see cref="ResidualSignature"/>) give
/// the same masks as checking every token with <see cref="GrammarMatcher.Accept"/>. The byte vocabulary is too
/// small to have fragments (subtrees of 512 nodes), so these run on GPT-2's 50,257 tokens.
/// </summary>
public class TrieFragmentTests
{
    private static readonly string TokenizerPath = Path.Combine(AppContext.BaseDirectory, "gpt2-tokenizer.json");
    private static readonly Lazy<(TokenVocabulary Vocab, TextTokenizer Text)> Gpt2 = new(() =>
        (ByteLevelVocabulary.Load(TokenizerPath, eosTokenId: 50256), TextTokenizer.FromTokenizerJson(TokenizerPath, eosTokenId: 50256)));

    [Theory]
    // Additional-property keys: a complement of the declared names, whose states past the names all share one
    // residual with each other and with the JSON string (walked once, then fragments reused).
    [InlineData("""{"type":"object","properties":{"name":{"type":"string"},"names":{"type":"integer"}},"additionalProperties":{"type":"string"}}""",
        """{"nam": "x", "name": "Al", "namesake": "y", "names": 3}""")]
    // Counted strings: every remaining length is its own state.
    [InlineData("""{"type":"object","properties":{"s":{"type":"string","maxLength":12},"t":{"type":"string","pattern":"^[a-z ]+$"}}}""",
        """{"s": "hello world!", "t": "lower case words"}""")]
    public void MasksEqualAcceptOnGpt2(string schema, string document)
    {
        var (vocab, text) = Gpt2.Value;
        var compiler = new GrammarCompiler(vocab);
        // Two grammars on one compiler: the second reuses the first one's fragments and walks.
        foreach (var g in new[] { compiler.CompileJsonObject(), compiler.CompileJsonSchema(schema) })
        {
            var m = g.CreateMatcher();
            var mask = new ulong[vocab.MaskWords];
            var ids = text.Encode(document);
            foreach (int id in ids)
            {
                m.ComputeMask(mask);
                Check.AssertMaskMatchesAccept(m, mask, vocab);
                Assert.True(BitMask.Get(mask, id), $"token {id} of the document");
                Assert.True(m.Accept(id));
            }
            m.ComputeMask(mask);
            Assert.True(m.CanStop && BitMask.Get(mask, 50256));
        }
    }

    [Fact]
    public void StatesWithTheSameContinuationsShareASignature()
    {
        var ab = DfaBuilder.Build(RegexParser.ParseFullMatch("ab*c"));
        var xb = DfaBuilder.Build(RegexParser.ParseFullMatch("(x|yy)b*c"));
        int[]? afterA = ResidualSignature.Of(ab, ab.Step(ab.Start, (byte)'a'));
        Assert.NotNull(afterA);
        Assert.Equal(afterA, ResidualSignature.Of(xb, xb.Step(xb.Start, (byte)'x')));
        Assert.Equal(afterA, ResidualSignature.Of(xb, xb.Step(xb.Step(xb.Start, (byte)'y'), (byte)'y')));
        Assert.NotEqual(afterA, ResidualSignature.Of(ab, ab.Start));
    }

    [Fact]
    public void LargeReachableSetsHaveNoSignature()
    {
        var counted = DfaBuilder.Build(RegexParser.ParseFullMatch("[a-z]{1,300}"));
        Assert.Null(ResidualSignature.Of(counted, counted.Start));
        // 100 letters left is within the cap.
        int s = counted.Start;
        for (int i = 0; i < 200; i++) s = counted.Step(s, (byte)'q');
        Assert.NotNull(ResidualSignature.Of(counted, s));
    }

    [Fact]
    public void CountedStringsShareABoundedWalkWithTheSameMasks()
    {
        var (vocab, text) = Gpt2.Value;
        var compiler = new GrammarCompiler(vocab);
        // maxLength 200: each length left is its own residual (too many states to sign), but every state with at
        // least BoundedSignature.Depth characters left walks the short tokens alike.
        var g = compiler.CompileJsonSchema("""{"type":"object","properties":{"a":{"type":"string","maxLength":200},"b":{"type":"string","maxLength":40}},"required":["a","b"]}""");
        var m = g.CreateMatcher();
        var mask = new ulong[vocab.MaskWords];
        var ids = text.Encode("""{"a": "a longer sentence, with \"quotes\" and punctuation; it goes on for a while", "b": "short one, near its end"}""");
        foreach (int id in ids)
        {
            m.ComputeMask(mask);
            Check.AssertMaskMatchesAccept(m, mask, vocab);
            Assert.True(BitMask.Get(mask, id), $"token {id} of the document");
            Assert.True(m.Accept(id));
        }
        m.ComputeMask(mask);
        Assert.True(m.CanStop && BitMask.Get(mask, 50256));
        var (reused, built, _) = compiler.BoundedWalkStats;
        Assert.True(built >= 1, "a shared bounded walk was built");
        Assert.True(reused >= 3, $"states reused it ({reused})");
    }

    [Fact]
    public void BoundedSignaturesAgreeOnlyWhereTheNextBytesBehaveAlike()
    {
        var counted = DfaBuilder.Build(RegexParser.ParseFullMatch("[a-z]{1,300}"));
        var order = new List<int>();
        int[] StateAfter(int letters)
        {
            int s = counted.Start;
            for (int i = 0; i < letters; i++) s = counted.Step(s, (byte)'q');
            return BoundedSignature.Of(counted, s, order)!;
        }
        var cmp = BoundedSignature.Comparer.Instance;
        // 299 and 250 letters left: both more than the depth, alike. 10 left: the bound shows within the depth.
        Assert.True(cmp.Equals(StateAfter(1), StateAfter(50)));
        Assert.False(cmp.Equals(StateAfter(1), StateAfter(290)));
        Assert.False(cmp.Equals(StateAfter(289), StateAfter(290)));
        // The breadth-first order names the states a shared walk's frontier refers to: depth + 1 of them here.
        StateAfter(1);
        Assert.Equal(BoundedSignature.Depth + 1, order.Count);
    }
}
