using Folio.Structured;

namespace Folio.Structured.Tests;

public class GbnfTests
{
    private static CompiledGrammar G(string text) => ByteVocab.Compiler.CompileGbnf(text);

    private const string Arithmetic = """
        # arithmetic with nesting (recursion through parentheses)
        root   ::= expr
        expr   ::= term (("+" | "-") term)*
        term   ::= factor ("*" factor)*
        factor ::= number | "(" expr ")"
        number ::= [0-9]+
        """;

    [Theory]
    [InlineData("1+2*3", true)]
    [InlineData("(1+2)*3", true)]
    [InlineData("((((7))))", true)]
    [InlineData("(1+2", false)]
    [InlineData("1+", false)]
    [InlineData("1++2", false)]
    public void RecursiveGrammar(string text, bool expected) => Assert.Equal(expected, Check.Accepts(G(Arithmetic), text));

    [Theory]
    [InlineData("root ::= [^\"\\\\]{2,3} \"!\"", "ab!", true)]
    [InlineData("root ::= [^\"\\\\]{2,3} \"!\"", "a!", false)]
    [InlineData("root ::= [^\"\\\\]{2,3} \"!\"", "abcd!", false)]
    [InlineData("root ::= \"a\\n\" \"\\x41\" \"\\u00e9\"", "a\nAé", true)]
    [InlineData("root ::= x?  y\nx ::= \"x\"\ny ::= \"y\"", "y", true)]
    [InlineData("root ::= x?  y\nx ::= \"x\"\ny ::= \"y\"", "xy", true)]
    [InlineData("root ::= ( \"a\" | \"b\" )+\n  | \"c\"", "abba", true)]
    [InlineData("root ::= ( \"a\" | \"b\" )+\n  | \"c\"", "c", true)]
    [InlineData("root ::= ( \"a\" | \"b\" )+\n  | \"c\"", "ac", false)]
    [InlineData("root ::= . \"z\"", "éz", true)]
    [InlineData("root ::= \"(\" root \")\" | \"\"", "((()))", true)]
    [InlineData("root ::= \"(\" root \")\" | \"\"", "(()", false)]
    public void Features(string grammar, string text, bool expected) => Assert.Equal(expected, Check.Accepts(G(grammar), text));

    [Theory]
    [InlineData("root ::= missing", "unknown rule 'missing'")]
    [InlineData("item ::= \"a\"", "no 'root' rule")]
    [InlineData("root ::= \"a", "unterminated string literal")]
    [InlineData("root ::= [a-", "unterminated character class")]
    [InlineData("root ::= (\"a\"", "missing ')'")]
    [InlineData("root ::= \"a\"\nroot ::= \"b\"", "defined twice")]
    [InlineData("root ::= root \"a\" | \"a\"", "left recursion")]
    [InlineData("root = \"a\"", "expected '::='")]
    [InlineData("root ::= \"\\q\"", "unknown escape")]
    public void BadGrammarsAreRefused(string grammar, string fragment) =>
        Assert.Contains(fragment, Assert.Throws<GrammarException>(() => G(grammar)).Message);

    [Fact]
    public void AGrammarWithNoStringIsRefused() =>
        Assert.Contains("no string satisfies", Assert.Throws<GrammarException>(() => G("root ::= a\na ::= \"x\" a")).Message);

    [Fact]
    public void ForcedBytesFollowTheOnlyContinuation()
    {
        var m = G("root ::= \"hello\" [0-9]").CreateMatcher();
        Assert.Equal("hello"u8.ToArray(), m.ForcedBytes());
        Assert.True(m.AcceptBytes("hel"u8));
        Assert.Equal("lo"u8.ToArray(), m.ForcedBytes());
    }

    [Fact]
    public void RollbackRestoresTheState()
    {
        var g = G("root ::= \"ab\" | \"ac\"");
        var m = g.CreateMatcher();
        Assert.True(m.Accept('a'));
        Assert.True(m.Accept('b'));
        Assert.True(m.CanStop);
        m.Rollback(1);
        Assert.False(m.CanStop);
        Assert.True(m.Accept('c'));
        Assert.True(m.Accept(ByteVocab.Shared.EosTokenId!.Value));
        Assert.True(m.IsTerminated);
        Assert.False(m.Accept('c'));
        m.Rollback(2);
        Assert.Equal(1, m.TokenCount);
        Assert.False(m.Accept('x'));
        Assert.True(m.Accept('b'));
    }
}
