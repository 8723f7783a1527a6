namespace Folio.Core.Text.Jinja.Syntax;

/// <summary>A list literal <c>[a, b]</c> or a tuple <c>(a, b)</c> / <c>a, b</c>.</summary>
internal sealed record ListExpr(SourcePosition Position, List<Expr> Items, bool IsTuple) : Expr(Position);
