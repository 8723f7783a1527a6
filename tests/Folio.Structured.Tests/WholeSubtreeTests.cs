using System.Text;
using Folio.Core.Models;

namespace Folio.Structured.Tests;

/// <summary>
/// The walk's whole-subtree shortcut (a subtree allowed as one token range where the automaton steps every byte or
/// character below along one chain of non-final states): the trie's per-node UTF-8 positions, the automaton's
/// per-state "every character" test, and masks that still equal Accept on GPT-2 for string bodies with non-ASCII
/// text, counted strings, patterns and formats.
/// </summary>
public class WholeSubtreeTests
{
    private static readonly string TokenizerPath = Path.Combine(AppContext.BaseDirectory, "gpt2-tokenizer.json");
    private static readonly Lazy<(TokenVocabulary Vocab, TextTokenizer Text)> Gpt2 = new(() =>
        (ByteLevelVocabulary.Load(TokenizerPath, eosTokenId: 50256), TextTokenizer.FromTokenizerJson(TokenizerPath, eosTokenId: 50256)));

    [Fact]
    public void Utf8BelowMarksWellFormedSubtrees()
    {
        // "a" + é (C3 A9), "a" + C3 cut short, "b" + a lone continuation byte, "c" + ED A0 (a surrogate's first two bytes).
        byte[][] tokens = [[(byte)'a', 0xC3, 0xA9], [(byte)'a', 0xC3], [(byte)'b', 0xA9], [(byte)'c', 0xED, 0xA0], [(byte)'d', (byte)'x']];
        var trie = new TokenTrie(tokens);
        int Child(int node, byte b)
        {
            for (int c = trie.FirstChild[node]; c < trie.FirstChild[node] + trie.ChildCount[node]; c++)
                if (trie.EdgeByte[c] == b) return c;
            throw new InvalidOperationException();
        }
        bool FromBoundary(int node) => (trie.Utf8Below[node] & (1 << Utf8Prefix.Boundary)) != 0;
        Assert.True(FromBoundary(Child(0, (byte)'a')));     // é, and C3 cut short: well-formed prefixes
        Assert.False(FromBoundary(Child(0, (byte)'b')));    // a continuation byte at a boundary
        Assert.False(FromBoundary(Child(0, (byte)'c')));    // ED A0: a surrogate
        Assert.True(FromBoundary(Child(0, (byte)'d')));
        Assert.True(trie.BelowHighByte[Child(0, (byte)'a')]);
        Assert.False(trie.BelowHighByte[Child(0, (byte)'d')]);
        Assert.Equal(2, trie.HeightBelow[Child(0, (byte)'c')]);
        // Depth-first token ranges: "a"'s subtree holds exactly the two tokens that start with "a".
        int a = Child(0, (byte)'a');
        Assert.Equal([0, 1], trie.SubtreeTokens[trie.SubtreeTokenStart[a]..trie.SubtreeTokenEnd[a]].Order());
    }

    [Fact]
    public void EveryCharacterTestTellsAnyCharacterFromASubset()
    {
        var any = DfaBuilder.Build(RegexParser.ParseFullMatch("[^\"]*\""));
        // The loop state (the start state is its own, never re-entered).
        int loop = any.Step(any.Start, (byte)'a');
        Assert.Equal(loop, any.MainAsciiStep(loop).Target);
        Assert.True(any.EveryCharLikeAscii(loop));
        Assert.Equal(loop, any.MainAsciiStep(any.Start).Target);
        // é alone among the non-ASCII characters: ASCII letters loop, other characters are dead.
        var some = DfaBuilder.Build(RegexParser.ParseFullMatch("[a-zé]*!"));
        Assert.False(some.EveryCharLikeAscii(some.Start));
        // Counted: each character, of any length, steps to the next count.
        var counted = DfaBuilder.Build(RegexParser.ParseFullMatch("[^\"]{0,5}\""));
        int next = counted.MainAsciiStep(counted.Start).Target;
        Assert.NotEqual(counted.Start, next);
        Assert.True(counted.EveryCharLikeAscii(counted.Start));
        Assert.Equal(next, counted.Step(counted.Step(counted.Start, 0xC3), 0xA9));
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"s":{"type":"string"}}}""", """{"s": "héllo wörld, naïve café ☕ 日本語"}""")]
    [InlineData("""{"type":"object","properties":{"s":{"type":"string","minLength":3,"maxLength":30}}}""", """{"s": "dünn ☕ 日本"}""")]
    [InlineData("""{"type":"object","properties":{"s":{"type":"string","pattern":"^[a-zé ]+$"}}}""", """{"s": "été en été"}""")]
    [InlineData("""{"type":"object","properties":{"s":{"type":"string","format":"email"},"u":{"type":"string","format":"uri"}}}""", """{"s": "a.b@example.com", "u": "https://example.com/x?y=1"}""")]
    public void MasksEqualAcceptWhereSubtreesAreTakenWhole(string schema, string document)
    {
        var (vocab, text) = Gpt2.Value;
        var g = new GrammarCompiler(vocab).CompileJsonSchema(schema);
        var m = g.CreateMatcher();
        var mask = new ulong[vocab.MaskWords];
        foreach (int id in text.Encode(document))
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
