namespace Folio.Core.Text.Jinja.Syntax;

/// <summary><c>obj[index]</c>.</summary>
internal sealed record IndexExpr(SourcePosition Position, Expr Object, Expr Index) : Expr(Position);
