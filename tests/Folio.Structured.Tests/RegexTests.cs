using Folio.Structured;

namespace Folio.Structured.Tests;

public class RegexTests
{
    private static CompiledGrammar R(string p) => ByteVocab.Compiler.CompileRegex(p);

    [Theory]
    [InlineData("abc", "abc", true)]
    [InlineData("abc", "ab", false)]
    [InlineData("a|bc", "bc", true)]
    [InlineData("a|bc", "abc", false)]
    [InlineData("[a-c]+", "cab", true)]
    [InlineData("[a-c]+", "", false)]
    [InlineData("[^a-c]x", "dx", true)]
    [InlineData("[^a-c]x", "bx", false)]
    [InlineData(@"\d{2,3}", "12", true)]
    [InlineData(@"\d{2,3}", "1234", false)]
    [InlineData(@"\d{2,3}", "1", false)]
    [InlineData(@"\d{2,}", "12345", true)]
    [InlineData(@"x{3}", "xxx", true)]
    [InlineData(@"x{3}", "xx", false)]
    [InlineData(@"(ab)*c", "ababc", true)]
    [InlineData(@"(?:ab)?c", "c", true)]
    [InlineData(@"^a.c$", "abc", true)]
    [InlineData(@"a.c", "a\nc", false)]
    [InlineData(@"\w+@\w+\.com", "me@x.com", true)]
    [InlineData(@"\s", " ", true)]
    [InlineData(@"\x41\u0042", "AB", true)]
    [InlineData(@"[\-+]?\d", "-1", true)]
    [InlineData(@"é+", "éé", true)]
    [InlineData(@"[α-ω]", "λ", true)]
    [InlineData(@"(?<year>\d{4})", "2024", true)]
    [InlineData(@"a+?", "aaa", true)]
    public void FullMatch(string pattern, string text, bool expected) => Assert.Equal(expected, Check.Accepts(R(pattern), text));

    [Theory]
    [InlineData("(ab", "missing ')'")]
    [InlineData("ab)", "unbalanced ')'")]
    [InlineData(@"(a)\1", "backreference")]
    [InlineData(@"a(?=b)", "lookaround")]
    [InlineData(@"\bword", "word boundary")]
    [InlineData(@"\p{L}", "Unicode property")]
    [InlineData("*a", "nothing to repeat")]
    [InlineData("[a-", "unterminated character class")]
    [InlineData("[z-a]", "out of order")]
    [InlineData("a{3,2}", "n < m")]
    [InlineData("a^b", "^ or $ in the middle")]
    public void InvalidRegexIsRefused(string pattern, string fragment)
    {
        var e = Assert.Throws<GrammarException>(() => R(pattern));
        Assert.Contains(fragment, e.Message);
        Assert.Contains(pattern, e.Message);
    }

    [Fact]
    public void SearchSemanticsAddAnythingAtUnanchoredEnds()
    {
        var node = RegexParser.ParseSearch("b");
        var def = new GrammarDefinition("root");
        def.Add("root", node);
        var g = ByteVocab.Compiler.Compile(def);
        Assert.True(Check.Accepts(g, "abc"));
        Assert.False(Check.Accepts(g, "ac"));
        var anchored = new GrammarDefinition("root");
        anchored.Add("root", RegexParser.ParseSearch("^b"));
        var g2 = ByteVocab.Compiler.Compile(anchored);
        Assert.True(Check.Accepts(g2, "bc"));
        Assert.False(Check.Accepts(g2, "abc"));
    }

    [Fact]
    public void ChoiceAcceptsExactlyTheChoices()
    {
        var g = ByteVocab.Compiler.CompileChoice(["yes", "no", "maybe"]);
        Assert.True(Check.Accepts(g, "no"));
        Assert.True(Check.Accepts(g, "maybe"));
        Assert.False(Check.Accepts(g, "nope"));
        Assert.False(Check.Accepts(g, "ye"));
        Assert.Contains("empty", Assert.Throws<GrammarException>(() => ByteVocab.Compiler.CompileChoice([])).Message);
    }

    [Fact]
    public void SameTextCompilesOnce()
    {
        Assert.Same(R("[0-9]+x"), R("[0-9]+x"));
    }
}
