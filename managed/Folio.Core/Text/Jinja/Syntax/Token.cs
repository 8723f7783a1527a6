namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>One lexical token: its kind, its text (a string literal's text is already unescaped) and where it began.</summary>
internal readonly record struct Token(TokenKind Kind, string Value, SourcePosition Position)
{
    public bool Is(TokenKind kind, string value) => Kind == kind && Value == value;
    public bool IsSymbol(string value) => Kind == TokenKind.Symbol && Value == value;
    public bool IsName(string value) => Kind == TokenKind.Identifier && Value == value;
}
