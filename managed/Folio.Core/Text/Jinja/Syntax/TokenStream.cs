namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>A cursor over the token list with the expect/peek helpers both parsers share.</summary>
internal sealed class TokenStream
{
    private readonly List<Token> _tokens;
    private int _i;

    public TokenStream(List<Token> tokens) => _tokens = tokens;

    public Token Peek => PeekAt(0);

    public Token PeekAt(int offset) => _tokens[Math.Min(_i + offset, _tokens.Count - 1)];

    public Token Next()
    {
        var t = Peek;
        if (_i < _tokens.Count - 1)
            _i++;
        return t;
    }

    public Token Expect(TokenKind kind, string what)
    {
        var t = Peek;
        if (t.Kind != kind)
            throw new TemplateException($"expected '{what}', found {Describe(t)}", t.Position);
        return Next();
    }

    public void ExpectSymbol(string symbol)
    {
        if (!Peek.IsSymbol(symbol))
            throw new TemplateException($"expected '{symbol}', found {Describe(Peek)}", Peek.Position);
        Next();
    }

    public void ExpectName(string name)
    {
        if (!Peek.IsName(name))
            throw new TemplateException($"expected '{name}', found {Describe(Peek)}", Peek.Position);
        Next();
    }

    public bool TryConsumeSymbol(string symbol)
    {
        if (!Peek.IsSymbol(symbol))
            return false;
        Next();
        return true;
    }

    public static string Describe(Token t) => t.Kind switch
    {
        TokenKind.End => "the end of the template",
        TokenKind.Text => "template text",
        TokenKind.String => "a string literal",
        _ => $"'{t.Value}'",
    };
}
