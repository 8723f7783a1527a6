namespace Folio.Core.Text.Jinja.Syntax;

internal enum TokenKind
{
    Text,
    OpenStatement,      // {%  (a {%- has already stripped the text before it)
    CloseStatement,     // %}
    OpenExpression,     // {{
    CloseExpression,    // }}
    Identifier,
    Integer,
    Float,
    String,
    /// <summary>Punctuation and operators: ( ) [ ] { } , . : | = + - ~ * ** / // % == != &lt; &gt; &lt;= &gt;=</summary>
    Symbol,
    /// <summary>A comment's place; the parser skips it.</summary>
    Comment,
    End,
}
